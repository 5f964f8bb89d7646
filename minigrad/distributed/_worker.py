"""What each rank runs under the launcher: sets torchrun's variables, runs the user's script
or module, and on failure records the error for the launcher and ends the whole job.

A failing rank must not reach ``MPI_Finalize`` (mpi4py calls it at exit): Finalize waits for
the other ranks, which may be waiting in a collective for this one. So an exception or a
non-zero ``sys.exit`` here ends the job with ``MPI_Abort`` instead, as ``python -m mpi4py``
does, after writing ``rank<N>.json`` into ``$MINIGRAD_ERROR_DIR`` for the launcher's report.

Usage (the launcher builds this command): ``python -m minigrad.distributed._worker
[-m] script_or_module [args...]``
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
import traceback

from ._mpi import abort, launcher_environment


def _record(rank: str, code: int, message: str, trace: str) -> None:
    folder = os.environ.get("MINIGRAD_ERROR_DIR")
    if not folder:
        return
    record = {
        "rank": int(rank) if rank.isdigit() else rank,
        "local_rank": os.environ.get("LOCAL_RANK"),
        "exitcode": code,
        "message": message,
        "traceback": trace,
        "time": time.time(),
        "pid": os.getpid(),
    }
    path = os.path.join(folder, f"rank{rank}.json")
    try:
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.replace(path + ".tmp", path)
    except OSError:
        pass  # the report is a courtesy; the exit code still tells the launcher


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        print(
            "usage: python -m minigrad.distributed._worker [-m] target [args...]", file=sys.stderr
        )
        raise SystemExit(2)
    for name, value in launcher_environment().items():
        os.environ[name] = value
    rank = os.environ.get("RANK", "?")
    target, sys.argv = argv[0], argv
    try:
        if as_module:
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        if e.code is None or e.code == 0:
            return
        code = e.code if isinstance(e.code, int) else 1
        if not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
        _record(rank, code, f"exited with code {code}" + _text(e.code), "")
        abort(code)
    except BaseException as e:
        trace = traceback.format_exc()
        print(trace, end="", file=sys.stderr)
        _record(rank, 1, f"{type(e).__name__}: {e}", trace)
        abort(1)


def _text(code) -> str:
    return "" if isinstance(code, int) else f": {code}"


if __name__ == "__main__":
    main()
