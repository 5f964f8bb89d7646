"""``python -m minigrad``: the same program as the ``minigrad`` command."""

import sys

from .cli import main

sys.exit(main())
