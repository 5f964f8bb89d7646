"""Sweep: run the ``>>>`` examples of PyTorch's own docstrings with PyTorch and with minigrad.

Each docstring's examples (parsed with :class:`doctest.DocTestParser`) run statement by
statement twice from the same seed: once with the installed PyTorch, once with ``torch`` (and
``torch.nn.functional`` etc.) bound to minigrad by :mod:`minigrad.as_torch`. The repr of each
statement's value (plus what it printed), or the type of the exception it raised, is compared
after the module names are normalised. Not collected by pytest (no ``test_`` prefix); run:

    python tests/doc_examples_sweep.py                 # summary: counts by category
    python tests/doc_examples_sweep.py -v              # plus every differing statement
    python tests/doc_examples_sweep.py --only torch:cat torch.nn:Linear -v
    python tests/doc_examples_sweep.py --write-pass    # refresh tests/data/doc_examples_pass.txt

``tests/test_torch_doc_examples.py`` runs the docstrings listed in the pass file.
"""

from __future__ import annotations

import argparse
import contextlib
import doctest
import importlib
import io
import json
import math
import random
import re
import signal
import sys
import time
import warnings
from pathlib import Path

PASS_FILE = Path(__file__).parent / "data" / "doc_examples_pass.txt"

# (module, label) pairs whose public callables' docstrings are swept; "torch.Tensor" is the class.
MODULES = (
    "torch",
    "torch.nn.functional",
    "torch.linalg",
    "torch.special",
    "torch.fft",
    "torch.Tensor",
    "torch.nn",
)

# Examples that need something outside the sweep's reach: (reason, pattern in the source).
SKIPS = (
    ("cuda", re.compile(r"cuda|\.to\(['\"]cuda|device=['\"]cuda|pin_memory")),
    ("files", re.compile(r"from_file|\.pt['\"]|open\(|tempfile|filename|torch\.save|torch\.load")),
    ("network", re.compile(r"https?://|torch\.hub|download")),
    ("named tensors", re.compile(r"names=|refine_names|\.rename\(|align_to|align_as|\.names")),
    ("quantized", re.compile(r"quantize|qint8|quint8|qint32|dequantize|q_scale")),
    ("plotting", re.compile(r"matplotlib|mpl_toolkits|plt\.")),
    ("distributed", re.compile(r"torch\.distributed|process_group|init_process_group")),
    ("dlpack", re.compile(r"dlpack")),
    ("meta device / fake", re.compile(r"device=['\"]meta|FakeTensor")),
)

# Legitimate differences: docstring key -> reason. Statements of these keys are not compared.
ALLOWED = {
    "torch:empty": "uninitialised memory: PyTorch prints whatever the allocator held",
    "torch:empty_strided": "uninitialised memory",
    "torch.Tensor:new_empty": "uninitialised memory",
    "torch.Tensor:new_empty_strided": "uninitialised memory",
    "torch:set_flush_denormal": "CPU feature query: minigrad (NumPy) has no flush-denormal mode",
}

_ADDR = re.compile(r" at 0x[0-9a-f]+")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf|nan)")


def normalize(text: str) -> str:
    """Module names and object addresses out of a repr: ``minigrad.float32`` -> ``torch.float32``."""
    return _ADDR.sub(" at 0x?", text.replace("minigrad", "torch"))


def collect(modules=MODULES) -> dict[str, list[str]]:
    """Docstring key (``module:name``) -> example sources, from the installed PyTorch."""
    import torch

    parser = doctest.DocTestParser()
    docs = {}
    for modname in modules:
        mod = torch.Tensor if modname == "torch.Tensor" else importlib.import_module(modname)
        for name in dir(mod):
            if name.startswith("_"):
                continue
            try:
                doc = getattr(mod, name).__doc__
            except Exception:
                continue
            if isinstance(doc, str) and ">>>" in doc:
                with contextlib.suppress(ValueError):
                    docs[f"{modname}:{name}"] = [e.source for e in parser.get_examples(doc)]
    return docs


def skip_reason(sources: list[str]) -> str | None:
    """Why an example cannot run here (CUDA, files, network, ...), or None."""
    text = "\n".join(sources)
    for reason, pattern in SKIPS:
        if pattern.search(text):
            return reason
    return None


class _Timeout(Exception):
    pass


def _alarm(*_):
    raise _Timeout


def _reset(torch) -> None:
    """Same starting state for every docstring: seeds, default device and dtype, print options."""
    torch.manual_seed(0)
    random.seed(0)
    import numpy as np

    np.random.seed(0)
    torch.set_default_device(None)
    torch.set_default_dtype(torch.float32)
    torch.set_printoptions(profile="default")


def run_statement(src: str, ns: dict, timeout: int) -> list[str]:
    """``[kind, text]`` for one statement: ``ok`` + repr and printout, ``err`` + exception type,
    or ``timeout``."""
    signal.alarm(timeout)
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            try:
                code = compile(src, "<example>", "eval")
            except SyntaxError:
                exec(compile(src, "<example>", "exec"), ns)
                value = None
            else:
                value = eval(code, ns)
        shown = repr(value) if value is not None else ""
        return ["ok", normalize(shown + buf.getvalue())[:4000]]
    except _Timeout:
        return ["timeout", ""]
    except BaseException as e:
        return ["err", type(e).__name__.lstrip("_") + ": " + normalize(str(e))[:300]]
    finally:
        signal.alarm(0)


def run_docs(docs: dict[str, list[str]], timeout: int = 5) -> dict[str, list]:
    """Run every docstring's statements with whatever ``import torch`` gives now."""
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    previous = signal.signal(signal.SIGALRM, _alarm)
    out = {}
    try:
        for key, sources in docs.items():
            _reset(torch)
            ns = {"torch": torch, "nn": nn, "F": F, "np": np, "math": math}
            out[key] = [run_statement(src, ns, timeout) for src in sources]
    finally:
        signal.signal(signal.SIGALRM, previous)
        _reset(torch)
    return out


def run_both(docs: dict[str, list[str]], timeout: int = 5) -> tuple[dict, dict]:
    """Results with PyTorch, then with minigrad as torch (one process)."""
    import minigrad.as_torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = run_docs(docs, timeout)
        with minigrad.as_torch.imports():
            mine = run_docs(docs, timeout)
    return ref, mine


def _last_digit_close(a: str, b: str) -> bool:
    """Same text apart from numbers that differ by at most one unit of the last printed digit
    (random float32 data may differ by 1-3 ulps from PyTorch's until float32 randn is bit-exact)."""
    na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
    if len(na) != len(nb) or _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    for x, y in zip(na, nb):
        if x == y:
            continue
        mantissa, _, exp = x.partition("e")
        decimals = len(mantissa.partition(".")[2])
        unit = 10.0 ** (-decimals + (int(exp) if exp else 0))
        try:
            if abs(float(x) - float(y)) > 1.01 * unit:
                return False
        except ValueError:
            return False
    return True


def category(ref: list, mine: list) -> str | None:
    """How one statement's two results differ (None: they match)."""
    if ref == mine:
        return None
    if ref[0] == "ok" and mine[0] == "ok":
        return "last digit" if _last_digit_close(ref[1], mine[1]) else "value/repr"
    if ref[0] == "err" and mine[0] == "err":
        same_type = ref[1].split(":")[0] == mine[1].split(":")[0]
        return None if same_type else "exception type"
    if mine[0] == "timeout":
        return "minigrad timeout"
    if ref[0] == "timeout":
        return "torch timeout"
    if mine[0] == "err":
        name = mine[1].split(":")[0]
        return (
            "missing"
            if name in ("AttributeError", "ImportError", "ModuleNotFoundError")
            else ("minigrad raises")
        )
    return "torch raises, minigrad does not"


def compare(ref: dict, mine: dict) -> dict[str, list[tuple[int, str]]]:
    """Docstring key -> [(statement index, category)] of every differing statement."""
    diffs = {}
    for key, results in ref.items():
        if key in ALLOWED:
            continue
        found = [
            (i, c) for i, (r, m) in enumerate(zip(results, mine[key])) if (c := category(r, m))
        ]
        if found:
            diffs[key] = found
    return diffs


def main(argv=None) -> int:
    """Run the sweep and print the counts (and, with -v, each differing statement)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="docstring keys to run (module:name)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json", help="write both runs' results here")
    ap.add_argument("--write-pass", action="store_true", help=f"rewrite {PASS_FILE.name}")
    ap.add_argument("--timeout", type=int, default=5, help="seconds per statement")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    docs = collect()
    if args.only:
        docs = {k: v for k, v in docs.items() if k in args.only}
    skipped = {k: r for k, v in docs.items() if (r := skip_reason(v))}
    run = {k: v for k, v in docs.items() if k not in skipped}
    start = time.perf_counter()
    ref, mine = run_both(run, args.timeout)
    diffs = compare(ref, mine)
    report(docs, skipped, run, diffs, ref, mine, args.verbose)
    print(f"seconds: {time.perf_counter() - start:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"torch": ref, "minigrad": mine, "diffs": diffs}))
    if args.write_pass:
        passing = sorted(k for k in run if k not in diffs and k not in ALLOWED)
        PASS_FILE.write_text("".join(k + "\n" for k in passing))
    return 0


def report(docs, skipped, run, diffs, ref, mine, verbose) -> None:
    """Print counts: docstrings, statements, skip reasons, matches, mismatch categories."""
    n_stmt = sum(len(v) for v in run.values())
    bad_stmt = sum(len(v) for v in diffs.values())
    print(f"docstrings with examples: {len(docs)}; skipped: {len(skipped)}; run: {len(run)}")
    for reason in sorted(set(skipped.values())):
        print(f"  skipped ({reason}): {sum(r == reason for r in skipped.values())}")
    print(f"allowed differences (not compared): {sum(k in run for k in ALLOWED)}")
    print(f"docstrings matching at every statement: {len(run) - len(diffs) - len(ALLOWED)}")
    print(f"statements run: {n_stmt}; differing: {bad_stmt}")
    counts: dict[str, int] = {}
    for found in diffs.values():
        for _, c in found:
            counts[c] = counts.get(c, 0) + 1
    for c, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {c}: {n} statements")
    if verbose:
        for key, found in diffs.items():
            for i, c in found:
                print(f"===== {key} stmt {i} [{c}]\n{run[key][i].rstrip()}")
                print(f"TORCH: {ref[key][i][0]} {ref[key][i][1][:600]}")
                print(f"MINI : {mine[key][i][0]} {mine[key][i][1][:600]}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
