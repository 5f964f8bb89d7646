"""Raise-parity sweep: calls where PyTorch raises but minigrad returns a value (a silent answer).

Every public callable that minigrad and PyTorch both have (top-level functions, ``Tensor``
methods, ``nn.functional``, ``linalg``, ``special``, ``fft``) is called with systematically bad
arguments -- bool/int/complex tensors, ``dim=5`` on 2-D input, mismatched shapes, float and
out-of-range indices, negative sizes, the ``meta`` device, non-contiguous views for ``.view``,
``out=`` of the wrong dtype, in-place ops on leaves requiring grad and on broadcast results,
integer overflow -- in both libraries, and each call is classified:

* ``both-raise``: both raise (``type-differs`` when minigrad's exception is not PyTorch's type);
* ``both-return``: both return (``values-differ`` when the results disagree loosely);
* ``SILENT``: PyTorch raises, minigrad returns -- the dangerous direction;
* ``over-strict``: minigrad raises, PyTorch returns (``unsupported`` when it is minigrad's
  ``NotImplementedError``: a missing feature, not a wrong refusal);
* ``timeout``: a call ran past 3 s in either library (not compared);
* ``by-design``: a difference kept on purpose, with its reason (:data:`BY_DESIGN`,
  :data:`REFUSED_BY_DESIGN`: PyTorch lacks a meta kernel, or answers with values it never had).

Then the whole-call scenarios of ``raise_parity_scenarios.py`` (nn.Module constructors and
forwards, losses, conv/pool/interpolate, optimizers, schedulers, data loading, Tensor methods,
linalg, load_state_dict, nn.utils, autograd, distributions) are classified the same way, each
library from seed 0.

Run (outside CI, PyTorch installed): ``python scripts/raise_parity_sweep.py [--all] [--probes |
--scenarios] [NAME ...]`` prints the summary tables and the SILENT list (``--all`` also lists
type-differs, over-strict, values-differ and by-design calls; names, or scenario areas,
restrict the sweep).
"""

from __future__ import annotations

import collections
import functools
import math
import pathlib
import signal
import sys
import warnings

import numpy as np
import torch

import minigrad

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from raise_parity_scenarios import SCENARIOS

# side effects on the process, the file system or global state; or not ops at all
SKIP = {
    "save", "load", "manual_seed", "seed", "initial_seed", "compile", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled", "get_rng_state", "set_rng_state", "typename",
    "is_tensor", "is_storage", "numel", "from_numpy", "frombuffer", "from_file", "get_default_dtype",
    "get_num_threads", "is_grad_enabled", "is_inference_mode_enabled", "is_anomaly_enabled",
    "share_memory_", "pin_memory", "cuda", "cpu", "register_hook", "register_post_accumulate_grad_hook",
    "backward", "apply_", "map_", "map2_", "storage", "untyped_storage", "data_ptr", "tolist",
    "numpy", "item", "vmap", "cond", "export", "jit", "sym_int", "sym_float", "sym_max", "sym_min",
    "sym_not", "sym_ite", "sym_sum", "sym_fresh_size", "chunk_lazy", "checkpoint",
    "get_device", "element_size", "dim", "ndimension", "nelement", "is_floating_point",
    "is_complex", "is_signed", "is_contiguous", "is_nonzero", "is_same_size", "is_set_to",
    "is_leaf", "retain_grad", "requires_grad_", "detach_", "type", "type_as", "to", "__array__",
}  # fmt: skip
NAMESPACES = ("", "Tensor", "nn.functional", "linalg", "special", "fft")

# (namespace, name, probe) -> why minigrad answers where PyTorch raises, on purpose: PyTorch's
# refusal is a missing kernel (no meta implementation), not a bad argument; minigrad's answer
# has the shape and dtype PyTorch's would have.
_NO_META_KERNEL = "PyTorch has no meta kernel; minigrad's meta result has the right shape"
BY_DESIGN = {
    ("", "cov", "meta"): _NO_META_KERNEL,
    ("Tensor", "cov", "meta"): _NO_META_KERNEL,
    ("", "corrcoef", "meta"): _NO_META_KERNEL,
    ("Tensor", "corrcoef", "meta"): _NO_META_KERNEL,
    ("", "dequantize", "meta"): _NO_META_KERNEL + " (a float tensor comes back as it is)",
    ("Tensor", "dequantize", "meta"): _NO_META_KERNEL + " (a float tensor comes back as it is)",
    ("", "from_dlpack", "meta"): "a minigrad tensor comes back sharing its record, as minigrad's "
    "from_dlpack takes its own tensors without DLPack (PyTorch's goes through DLPack)",
    # scenarios: (area, name)
    ("nn.utils", "pack-length-big"): "PyTorch packs past the input's last step (a length above "
    "the steps reads beyond it); minigrad refuses",
    ("autograd", "grad-outputs-count"): "PyTorch drops the grad_outputs beyond the outputs; "
    "minigrad refuses the count mismatch",
    ("distributions", "MVN-shape"): "PyTorch builds a MultivariateNormal whose loc and "
    "covariance disagree (sampling fails later); minigrad refuses at construction",
    ("optim", "SGD-group-lr-neg"): "minigrad checks each param group's hyperparameters "
    "(tests/test_optim.py), PyTorch only the defaults",
}


def _ns(mod, path):
    for part in filter(None, path.split(".")):
        mod = getattr(mod, part)
    return mod


def targets(only=()):
    """(namespace, name) pairs callable in both libraries."""
    out = []
    for path in NAMESPACES:
        mg, th = _ns(minigrad, path), _ns(torch, path)
        for name in sorted(set(dir(mg)) & set(dir(th))):
            if name.startswith("_") or name in SKIP or name.startswith(("set_", "get_", "is_")):
                continue
            if only and name not in only:
                continue
            a, b = getattr(mg, name, None), getattr(th, name, None)
            if not (callable(a) and callable(b)) or isinstance(a, type) or isinstance(b, type):
                continue
            if type(a).__name__ == "module" or type(b).__name__ == "module":
                continue
            out.append((path, name))
    return out


# -- inputs: each builder makes fresh arguments on module ``m`` ---------------------------------


def _f(m, *shape):
    return m.arange(1, 1 + math.prod(shape), dtype=m.float32).reshape(shape) / 7


def _leaf(m):
    return _f(m, 2, 3).requires_grad_()


def _expanded(m):
    return _f(m, 1, 3).expand(2, 3)


# probe name -> (builder(m) -> (args, kwargs), which names it applies to)
def _all(name):
    return True


def _inplace(name):
    return name.endswith("_") and not name.endswith("__")


def _plain(name):
    return not _inplace(name)


PROBES = {
    "bool": (lambda m: ((_f(m, 2, 3) > 0.5,), {}), _all),
    "int": (lambda m: ((m.arange(6).reshape(2, 3),), {}), _all),
    "complex": (lambda m: ((_f(m, 2, 3).to(m.complex64),), {}), _all),
    "int-pair": (lambda m: ((m.arange(6).reshape(2, 3), m.arange(6).reshape(2, 3)), {}), _all),
    "bool-pair": (lambda m: ((_f(m, 2, 3) > 0.5, _f(m, 2, 3) > 0.3), {}), _all),
    "dim=5": (lambda m: ((_f(m, 2, 3),), {"dim": 5}), _all),
    "dim-pos5": (lambda m: ((_f(m, 2, 3), 5), {}), _all),
    "dim=-3": (lambda m: ((_f(m, 2, 3),), {"dim": -3}), _all),
    "mismatch": (lambda m: ((_f(m, 2, 3), _f(m, 4, 5)), {}), _all),
    "mismatch-3": (lambda m: ((_f(m, 2, 3), _f(m, 4, 5), _f(m, 3, 2)), {}), _all),
    "seq-mismatch": (lambda m: (([_f(m, 2, 3), _f(m, 4, 5)],), {}), _all),
    "seq-dtype-mix": (lambda m: (([_f(m, 2, 3), m.arange(6).reshape(2, 3)],), {}), _all),
    "float-index": (lambda m: ((_f(m, 2, 3), 0, m.tensor([0.0, 1.0])), {}), _all),
    "oob-index": (lambda m: ((_f(m, 2, 3), 0, m.tensor([7])), {}), _all),
    "neg-index": (lambda m: ((_f(m, 2, 3), 0, m.tensor([-9])), {}), _all),
    "oob-index-src": (
        lambda m: ((_f(m, 2, 3), 0, m.tensor([[7, 0, 1]]), _f(m, 1, 3)), {}),
        _all,
    ),
    "neg-size": (lambda m: ((-1, 2), {}), _all),
    "neg-size-tuple": (lambda m: (((2, -3),), {}), _all),
    "neg-size-arg": (lambda m: ((_f(m, 2, 3), -2), {}), _all),
    "neg-sizes-arg": (lambda m: ((_f(m, 2, 3), -2, 3), {}), _all),
    "zero-arg": (lambda m: ((_f(m, 2, 3), 0), {}), _all),
    "meta": (lambda m: ((_f(m, 2, 3).to("meta"),), {}), _all),
    "meta-pair": (lambda m: ((_f(m, 2, 3), _f(m, 2, 3).to("meta")), {}), _all),
    "noncontig-view": (lambda m: ((_f(m, 3, 2).t(), 6), {}), _all),
    "out-dtype": (lambda m: ((_f(m, 2, 3),), {"out": m.empty(2, 3, dtype=m.int64)}), _plain),
    "out-dtype-pair": (
        lambda m: ((_f(m, 2, 3), _f(m, 2, 3)), {"out": m.empty(2, 3, dtype=m.int64)}),
        _plain,
    ),
    "out-bool": (lambda m: ((_f(m, 2, 3),), {"out": m.empty(2, 3, dtype=m.bool)}), _plain),
    "inplace-leaf": (lambda m: ((_leaf(m),), {}), _inplace),
    "inplace-leaf-pair": (lambda m: ((_leaf(m), _f(m, 2, 3)), {}), _inplace),
    "inplace-expanded": (lambda m: ((_expanded(m),), {}), _inplace),
    "inplace-expanded-pair": (lambda m: ((_expanded(m), _f(m, 2, 3)), {}), _inplace),
    "inplace-broadcast-result": (lambda m: ((_f(m, 1, 3), _f(m, 2, 3)), {}), _inplace),
    "inplace-int-float": (lambda m: ((m.arange(6).reshape(2, 3), _f(m, 2, 3)), {}), _inplace),
    "overflow-value": (lambda m: ((m.arange(6).reshape(2, 3), 2**70), {}), _all),
    "overflow-fill": (lambda m: (((2,), 2**70), {"dtype": m.int64}), _all),
    "overflow-list": (lambda m: (([1, 2**70],), {}), _all),
    "overflow-int8": (lambda m: (([1, 300],), {"dtype": m.int8}), _all),
}


# -- calling and classifying --------------------------------------------------------------------


class _CallTimeoutError(Exception):
    pass


def _alarm(signum, frame):
    raise _CallTimeoutError


def run(thunk):
    """(result, exception) of ``thunk()`` under the time limit, warnings silenced."""
    signal.alarm(3)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return thunk(), None
    except _CallTimeoutError:
        return None, _CallTimeoutError()
    except Exception as exc:
        return None, exc
    finally:
        signal.alarm(0)


def call(mod, path, name, probe):
    """(result, exception) of one probe on one library."""
    build, _ = PROBES[probe]
    try:
        args, kwargs = build(mod)
    except Exception as exc:  # the bad input cannot even be made here
        return None, exc
    if path == "Tensor":
        if not args or not isinstance(args[0], mod.Tensor):
            return None, None  # not applicable to a method
        return run(lambda: getattr(args[0], name)(*args[1:], **kwargs))
    return run(lambda: getattr(_ns(mod, path), name)(*args, **kwargs))


def _array(x):
    if isinstance(x, (torch.Tensor, minigrad.Tensor)):
        if x.device.type == "meta":
            return ("meta", tuple(x.shape))
        if getattr(x, "layout", None) not in (None, torch.strided, minigrad.strided):
            x = x.to_dense()
        return np.asarray(
            x.detach().cpu().resolve_conj().numpy() if x.is_conj() else x.detach().cpu().numpy()
        )
    return x


def same_value(a, b) -> bool:
    """Loose comparison of two results (shapes, then values)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    try:
        a, b = _array(a), _array(b)
    except Exception:
        return True  # not comparable here: counted as agreeing
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape:
            return False
        try:
            return bool(
                np.allclose(
                    a.astype(complex), b.astype(complex), rtol=1e-3, atol=1e-4, equal_nan=True
                )
            )
        except (TypeError, ValueError):
            return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return a == b
    return True


def _same_kind(mine, theirs) -> bool:
    if isinstance(mine, type(theirs)):
        return True
    # PyTorch's own subclasses (LinAlgError, OutOfMemoryError) are RuntimeErrors
    return isinstance(mine, RuntimeError) and isinstance(theirs, RuntimeError)


def _msg(exc) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:90] if lines else ""


# probe -> why minigrad's refusal (over-strict by the classes) is kept for every op it meets
REFUSED_BY_DESIGN = {
    "meta-pair": "PyTorch's CPU kernel reads the meta tensor's absent values (uninitialised "
    "memory: an answer of garbage); minigrad refuses the mix of devices",
    "inplace-expanded": "PyTorch writes through the expanded tensor's shared memory (the answer "
    "depends on the kernel's order); minigrad refuses with PyTorch's own words for other ops",
}


def classify(path, name, probe):
    """(class, detail) of one call."""
    if (path, name, probe) in BY_DESIGN:
        return "by-design", BY_DESIGN[path, name, probe]
    kind, detail = compare(call(torch, path, name, probe), call(minigrad, path, name, probe))
    if kind == "over-strict" and probe in REFUSED_BY_DESIGN:
        return "by-design", REFUSED_BY_DESIGN[probe]
    return kind, detail


def compare(theirs, mine):
    """(class, detail) of PyTorch's and minigrad's (result, exception) of one call."""
    (t_out, t_exc), (m_out, m_exc) = theirs, mine
    if t_exc is None and t_out is None and m_exc is None and m_out is None:
        return None, ""
    if isinstance(t_exc, _CallTimeoutError) or isinstance(m_exc, _CallTimeoutError):
        return "timeout", ""
    if t_exc is not None and m_exc is None:
        return "SILENT", f"torch {type(t_exc).__name__}: {_msg(t_exc)}"
    if t_exc is None and m_exc is not None:
        kind = "unsupported" if isinstance(m_exc, NotImplementedError) else "over-strict"
        return kind, f"minigrad {type(m_exc).__name__}: {_msg(m_exc)}"
    if t_exc is not None:
        if _same_kind(m_exc, t_exc):
            return "both-raise", ""
        return (
            "type-differs",
            f"torch {type(t_exc).__name__}, minigrad {type(m_exc).__name__}: {_msg(m_exc)}",
        )
    return ("both-return", "") if same_value(m_out, t_out) else ("values-differ", "")


ORDER = ("both-raise", "type-differs", "both-return", "values-differ", "SILENT", "over-strict",
         "unsupported", "timeout", "by-design")  # fmt: skip


def _warm_up() -> None:
    """PyTorch's first meta-device and ``out=`` calls import whole subsystems (sympy): done here,
    outside the per-call time limit, which would interrupt an import half-way and break every
    later call."""
    for mod in (torch, minigrad):
        x = _f(mod, 2, 3)
        for fn in (
            lambda x: x.to("meta").abs(),
            lambda x: x.to("meta").sum(0),
            lambda x: x.view(6),
        ):
            try:
                fn(x)
            except Exception:
                pass


def _table(title, rows, counts) -> None:
    print(f"{title:38s}" + "".join(f"{k[:11]:>12s}" for k in ORDER))
    for row, row_counts in rows.items():
        print(f"{row:38s}" + "".join(f"{row_counts[k]:12d}" for k in ORDER))
    print(f"{'TOTAL':38s}" + "".join(f"{counts[k]:12d}" for k in ORDER))


def _count(kind: str, line: str, counters, lists) -> None:
    for counter in counters:
        counter[kind] += 1
    lists[kind].append(line)


def sweep_probes(only, lists) -> collections.Counter:
    """The probes on every callable of ``NAMESPACES``: prints the table by probe."""
    names = targets(only)
    counts = collections.Counter()
    by_probe = {probe: collections.Counter() for probe in PROBES}
    for i, (path, name) in enumerate(names):
        if i % 100 == 0:
            print(f"{i}/{len(names)}", file=sys.stderr, flush=True)
        for probe, (_, applies) in PROBES.items():
            if not applies(name):
                continue
            kind, detail = classify(path, name, probe)
            if kind is not None:
                line = f"{(path + '.') if path else ''}{name} [{probe}] {detail}"
                _count(kind, line, (counts, by_probe[probe]), lists)
    print(f"{len(names)} callables, {sum(counts.values())} calls")
    _table("probe", by_probe, counts)
    return counts


def sweep_scenarios(only, lists) -> collections.Counter:
    """The whole-call scenarios of ``raise_parity_scenarios``: prints the table by area."""
    counts = collections.Counter()
    by_area = collections.defaultdict(collections.Counter)
    cases = [c for c in SCENARIOS if not only or c[1] in only or c[0] in only]
    for area, name, thunk in cases:
        torch.manual_seed(0)  # (each library from the same seed: random draws agree)
        minigrad.manual_seed(0)
        if (area, name) in BY_DESIGN:
            kind, detail = "by-design", BY_DESIGN[area, name]
        else:
            kind, detail = compare(
                run(functools.partial(thunk, torch)), run(functools.partial(thunk, minigrad))
            )
        _count(kind or "both-return", f"{area}: {name} {detail}", (counts, by_area[area]), lists)
    print(f"\n{len(cases)} scenarios")
    _table("area", by_area, counts)
    return counts


def main(argv):
    show_all = "--all" in argv
    only = {a for a in argv if not a.startswith("--")}
    signal.signal(signal.SIGALRM, _alarm)
    _warm_up()
    torch.manual_seed(0)
    minigrad.manual_seed(0)
    lists = collections.defaultdict(list)
    if "--scenarios" not in argv:
        sweep_probes(only, lists)
    if "--probes" not in argv:
        sweep_scenarios(only, lists)
    more = ("type-differs", "over-strict", "values-differ", "by-design")
    shown = ("SILENT",) + (more if show_all else ())
    for kind in shown:
        print(f"\n== {kind} ({len(lists[kind])}) ==")
        print("\n".join(lists[kind]))


if __name__ == "__main__":
    main(sys.argv[1:])
