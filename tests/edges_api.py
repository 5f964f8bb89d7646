"""Edge sweep of the classes beginners construct and call against PyTorch: nn modules built with
bad arguments and called on wrong inputs, losses with bad targets, optimizers and learning-rate
schedulers with bad arguments, and the data utilities (the sibling of tests/edges_sweep.py,
whose rows are ops; these are calls, so each case is a function of the framework module).

Each case runs in both frameworks. Either both raise, minigrad with PyTorch's exception type and
a message holding PyTorch's first line (its words are what people search; minigrad may add
detail after them), or both compute the same result (tensor shapes and dtypes, values where the
case has no random weights, plain Python values) with the same warnings (each of PyTorch's first
lines found among minigrad's, and no others). Run as a script::

    python tests/edges_api.py -v                # every case, each mismatch printed
    python tests/edges_api.py -r LSTM -v        # the cases whose name contains "LSTM"
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from edges_sweep import Outcome, compare_values, flat

import minigrad

CATEGORIES = ("nn_init", "nn_call", "loss", "optim", "sched", "data")
AGREE = ("same", "both_raise")


@dataclass
class ApiCase:
    """One call: ``fn(m)`` with ``m`` minigrad or torch; ``values`` compares tensor values (no
    random weights in the way); ``words`` replaces PyTorch's first line as the text minigrad's
    message must hold where PyTorch's holds run-specific detail."""

    name: str
    category: str
    fn: object
    values: bool = False
    words: str | None = None

    @property
    def id(self) -> str:
        return f"{self.category}-{self.name}"


def _cases() -> list[ApiCase]:
    from edges_api_cases import CASES

    return [ApiCase(*c[:3], **(c[3] if len(c) > 3 else {})) for c in CASES]


def cases(categories=CATEGORIES) -> list[ApiCase]:
    """Every case of the table in ``categories``."""
    return [c for c in _cases() if c.category in categories]


# -- running and comparing -------------------------------------------------------------------


def _run(case, m):
    """(result, warnings, exception) of the case in module ``m``."""
    m.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, err = case.fn(m), None
        except Exception as e:
            result, err = None, e
    return result, [str(w.message) for w in caught if _counts(w)], err


def _counts(w) -> bool:
    """Whether a warning is about the call (not a deprecation inside the framework itself)."""
    return not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))


def _norm(text: str) -> str:
    """Framework names, case, whitespace and a closing period made comparable (a search
    ignores them): minigrad's words read as PyTorch's. PyTorch's note of the C++ source line
    that raised goes."""
    text = re.sub(r"\s*\(Triggered internally at .*", "", text.replace("minigrad", "torch"))
    return re.sub(r"\s+", " ", text).strip().rstrip(".").lower()


def _first(e) -> str:
    lines = str(e.args[0] if isinstance(e, KeyError) and e.args else e).strip().splitlines()
    return lines[0] if lines else ""


def _short(e) -> str:
    return f"{type(e).__name__}: {_first(e)[:160]}"


def _allclose_tolerance(name: str) -> tuple[float, float]:
    """(rtol, atol) of ``torch.allclose``'s defaults, for every dtype."""
    return 1e-5, 1e-8


def compare(case) -> Outcome:
    """Run ``case`` in both frameworks and say how they compare."""
    res_t, warn_t, t_err = _run(case, torch)
    res_m, warn_m, m_err = _run(case, minigrad)
    if t_err is not None and m_err is not None:
        return _compare_errors(t_err, m_err, case)
    if t_err is not None:
        return Outcome("silent", f"PyTorch raises {_short(t_err)}; minigrad computes")
    if m_err is not None:
        kind = "missing" if isinstance(m_err, NotImplementedError) else "m_raises"
        return Outcome(kind, f"minigrad raises {_short(m_err)}")
    tolerance = _allclose_tolerance if case.values else None
    outcome = compare_values(flat(res_m), flat(res_t), tolerance)
    return outcome if outcome.kind != "same" else _compare_warnings(warn_m, warn_t)


def _compare_errors(t_err, m_err, case) -> Outcome:
    """The same type (minigrad's may be a subclass) and PyTorch's first line in the message."""
    if not isinstance(m_err, type(t_err)):
        return Outcome("exc_type", f"PyTorch {_short(t_err)}; minigrad {_short(m_err)}")
    words = _norm(case.words if case.words is not None else _first(t_err))
    if words not in _norm(str(m_err.args[0] if isinstance(m_err, KeyError) else m_err)):
        return Outcome("exc_message", f"PyTorch {_short(t_err)}; minigrad {_short(m_err)}")
    return Outcome("both_raise")


def _compare_warnings(warn_m, warn_t) -> Outcome:
    got = [_norm(w) for w in warn_m]
    for w in warn_t:
        first = _norm(w.strip().splitlines()[0])
        if not any(first in g for g in got):
            return Outcome("warning", f"PyTorch warns {first[:160]!r}; minigrad does not")
    expected = [_norm(w.strip().splitlines()[0]) for w in warn_t]
    for g in got:
        if not any(e in g for e in expected):
            return Outcome("warning", f"minigrad warns {g[:160]!r}; PyTorch does not")
    return Outcome("same")


# -- the allow-list --------------------------------------------------------------------------

# case name -> why minigrad differs from PyTorch on purpose
ALLOWED: dict = {
    "Conv2d-same": (
        "PyTorch's warning is a note on its own kernel (an even kernel with padding='same' may "
        "make it copy the input zero-padded); minigrad pads once for any kernel, silently"
    ),
    "Upsample-mode": (
        "both raise NotImplementedError; PyTorch's words are its fall-through for an input rank "
        "it does not handle (listing the modes), minigrad's name the unknown mode"
    ),
    "LSTM-hx-tensor": (
        "PyTorch indexes a tensor given as hx as if it were the (h_0, c_0) tuple and fails with "
        "an IndexError on its first dim; minigrad raises that hx must be a tuple (h_0, c_0)"
    ),
    "GRU-hx-tuple": (
        "both raise AttributeError from reading an attribute of the tuple; PyTorch reads "
        "'dim', minigrad 'ndim' (Python's words, naming each one's attribute)"
    ),
    "CE-smoothing-neg": (
        "PyTorch checks label_smoothing only when it is positive, so a negative value silently "
        "means no smoothing; minigrad refuses it, in the words PyTorch uses above 1.0"
    ),
    "ConcatDataset-oob-pos": (
        "both raise IndexError; PyTorch's is Python's 'list index out of range' from its "
        "lookup, minigrad's names the index and the dataset's length"
    ),
    "random_split-float-int": (
        "both raise TypeError; PyTorch's comes from randperm's argument parser on the float sum "
        "of the lengths, minigrad's says that lengths must be ints or fractions summing to 1"
    ),
    "SGD-lr-str": (
        "both raise TypeError; PyTorch's is Python's from comparing the string with 0.0, "
        "minigrad's says that lr must be a Python number"
    ),
    "TensorDataset-empty": (
        "PyTorch fails indexing its empty tuple of tensors (IndexError: tuple index out of "
        "range); minigrad raises a ValueError saying that a tensor is needed"
    ),
}


def known_open(case, outcome) -> bool:
    """Whether the mismatch is one of the triaged, not yet fixed ones (tests/edges_known.py)."""
    from edges_known import KNOWN_API

    return (case.name, case.category, outcome.kind) in KNOWN_API


def sweep(all_cases, verbose=False, out=sys.stdout):
    """Run the cases; returns {(category, outcome kind): count} and the (case, outcome)
    mismatches."""
    counts, mismatches = collections.Counter(), []
    for case in all_cases:
        outcome = compare(case)
        kind = outcome.kind
        if kind not in AGREE and case.name in ALLOWED:
            kind = "allowed"
        counts[(case.category, kind)] += 1
        if kind not in AGREE + ("allowed",):
            mismatches.append((case, outcome))
            if verbose:
                print(f"{case.id}: [{kind}] {outcome.detail}", file=out)
    return counts, mismatches


def _table(counts, out=sys.stdout):
    kinds = sorted({k for _, k in counts})
    print(f"{'category':<10}" + "".join(f"{k:>12}" for k in kinds) + f"{'total':>8}", file=out)
    for cat in CATEGORIES:
        row = [counts.get((cat, k), 0) for k in kinds]
        print(f"{cat:<10}" + "".join(f"{n:>12}" for n in row) + f"{sum(row):>8}", file=out)


def main(argv=None):
    import edges_sweep

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--category", action="append", choices=CATEGORIES)
    parser.add_argument("-r", "--name", help="only cases whose name contains this")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every mismatch")
    parser.add_argument(
        "--write-known", action="store_true", help="rewrite KNOWN_API in tests/edges_known.py"
    )
    ns = parser.parse_args(argv)
    chosen = [c for c in cases(tuple(ns.category or CATEGORIES)) if (ns.name or "") in c.name]
    counts, mismatches = sweep(chosen, ns.verbose)
    _table(counts)
    if ns.write_known:
        edges_sweep.write_known(api={(c.name, c.category, o.kind) for c, o in mismatches})
    print(f"{len(chosen)} cases, {len(mismatches)} mismatches")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
