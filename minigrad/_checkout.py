"""``minigrad.models`` when running from a source checkout.

The reference models live in the repository's top-level ``models/`` folder, which the wheel
installs as ``minigrad.models`` (``package-dir`` in pyproject.toml). In a checkout there is no
``minigrad/models``, so this finder serves exactly that one name from ``../models``. It is
installed only when ``minigrad/models`` is absent and the folder beside ``minigrad/`` is the
repository's (next to its pyproject.toml), so an installed minigrad never uses it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

_NAME = "minigrad.models"


class _ModelsFinder(importlib.abc.MetaPathFinder):
    def __init__(self, folder: Path):
        self.folder = folder

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _NAME:
            return None
        return importlib.util.spec_from_file_location(
            _NAME, self.folder / "__init__.py", submodule_search_locations=[str(self.folder)]
        )


def install() -> None:
    here = Path(__file__).resolve().parent
    folder = here.parent / "models"
    if (here / "models").is_dir() or not (folder / "__init__.py").is_file():
        return
    if not (here.parent / "pyproject.toml").is_file():
        return
    if not any(isinstance(f, _ModelsFinder) for f in sys.meta_path):
        sys.meta_path.append(_ModelsFinder(folder))
