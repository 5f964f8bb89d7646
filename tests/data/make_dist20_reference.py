"""Writes dist20_reference.json: PyTorch's results of tests/dist20_program.py (ZeRO, FQN-keyed
optimizer state dicts, dcp.save/load across world sizes) on 2 ranks on gloo, with its
single-process halves, which tests/test_dist20.py compares minigrad's with (without running
PyTorch's torchrun in CI: its start-up costs seconds). PyTorch 2.13.0 (CPU) was used:

    python tests/data/make_dist20_reference.py
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import dist20_program as program  # noqa: E402
import torch  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as folder:
        before = program.one_process_before(folder)
        job = Path(folder) / "job.json"
        subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
             str(HERE.parent / "dist20_program.py"), str(job), folder],
            check=True,
        )  # fmt: skip
        ranks = json.loads(job.read_text())
        after = program.one_process_after(folder)
    reference = {"torch": torch.__version__, "ranks": ranks, "before": before, "after": after}
    (HERE / "dist20_reference.json").write_text(json.dumps(reference, indent=0) + "\n")


if __name__ == "__main__":
    main()
