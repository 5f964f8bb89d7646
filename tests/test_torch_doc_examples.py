"""PyTorch's own docstring examples run with minigrad as torch: every docstring listed in
tests/data/doc_examples_pass.txt gives PyTorch's repr (or exception type) at each statement.

The sweep (tests/doc_examples_sweep.py) runs in a child process, so that what the examples
change (default dtype and device, print options, seeds, grad mode) cannot leak into other tests.
``python tests/doc_examples_sweep.py --write-pass`` refreshes the list after a fix.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

SWEEP = Path(__file__).parent / "doc_examples_sweep.py"


def test_pytorch_docstring_examples_give_pytorchs_results():
    done = subprocess.run(
        # a statement's alarm is wall time: generous, so that a busy machine cannot turn a
        # listed (fast) docstring into a timeout; the whole run is still bounded
        [sys.executable, str(SWEEP), "--check-pass", "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=SWEEP.parents[1],
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert " 0 differ" in done.stdout
