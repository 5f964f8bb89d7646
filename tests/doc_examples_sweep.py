"""Sweep: run the ``>>>`` examples of PyTorch's own docstrings with PyTorch and with minigrad.

Each docstring's examples (parsed with :class:`doctest.DocTestParser`) run statement by
statement twice from the same seed: once with the installed PyTorch, once with ``torch`` (and
``torch.nn.functional`` etc.) bound to minigrad by :mod:`minigrad.as_torch`. The repr of each
statement's value (plus what it printed), or the type of the exception it raised, is compared
after the module names are normalised. Docstrings are keyed ``module:name``, and the methods
of the classes found there ``module:Class.method`` (each method's docstring once). Examples
written for CUDA run as their CPU variant (``'cuda'`` devices become ``'cpu'``), and every
docstring runs in a fresh temporary working directory (examples save files). Not
collected by pytest (no ``test_`` prefix); run:

    python tests/doc_examples_sweep.py                 # summary: counts by category
    python tests/doc_examples_sweep.py -v              # plus every differing statement
    python tests/doc_examples_sweep.py --only torch:cat torch.nn:Linear -v
    python tests/doc_examples_sweep.py --write-pass    # refresh tests/data/doc_examples_pass.txt

``--write-pass`` lists the docstrings that match at every statement (allowed and tolerated
differences apart) within ``--fast`` CPU seconds, PyTorch's run and minigrad's together, and
that still match when the list runs alone (as ``--check-pass`` runs it). A
statement that runs past ``--timeout`` wall seconds counts as a difference, so on a busy
machine give a larger ``--timeout`` (``--timeout 20``) rather than lose docstrings to the load.

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
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
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
# Further modules: only objects defined in torch (not re-exported ones such as Enum or json).
MORE_MODULES = (
    "torch.autograd",
    "torch.autograd.functional",
    "torch.autograd.forward_ad",
    "torch.func",
    "torch.distributions",
    "torch.optim",
    "torch.optim.lr_scheduler",
    "torch.optim.swa_utils",
    "torch.nn.init",
    "torch.nn.utils",
    "torch.nn.utils.rnn",
    "torch.nn.utils.parametrize",
    "torch.nn.utils.parametrizations",
    "torch.nn.utils.prune",
    "torch.nn.utils.stateless",
    "torch.utils.data",
    "torch.utils.checkpoint",
    "torch.sparse",
    "torch.masked",
    "torch.nested",
    "torch.signal.windows",
    "torch.testing",
    "torch.overrides",
    "torch.quasirandom",
    "torch.library",
    "torch.nn.attention",
    "torch.compiler",
    "torch.autograd.graph",
    "torch.autograd.profiler",
    "torch.profiler",
    "torch.utils.flop_counter",
    "torch.autograd.function",
    "torch.nn.grad",
    "torch.nn.modules.lazy",
    "torch.nn.parallel",
    "torch.nn.attention.varlen",
    "torch.futures",
    "torch.accelerator",
    "torch.serialization",
    "torch.random",
    "torch.cpu",
    "torch.amp",
    "torch.utils",
    "torch.fx.traceback",
    "torch.distributions.constraints",
    "torch.distributions.utils",
    "torch.hub",
    "torch.torch_version",
    "torch.ao.quantization",
    "torch.ao.quantization.observer",
    "torch.ao.quantization.fuse_modules",
    "torch.ao.quantization.fuser_method_mappings",
    "torch.ao.quantization.utils",
    "torch.ao.nn.quantized",
    "torch.ao.nn.quantized.dynamic",
    "torch.ao.nn.intrinsic.qat",
    "torch.ao.nn.intrinsic.quantized",
    "torch.ao.nn.intrinsic.quantized.dynamic",
)
# Not walked: torch.utils.data.datapipes (their examples import torchdata, a separate package;
# minigrad has no DataPipes), torch.ao.quantization.backend_config (no DTypeConfig/BackendConfig
# in minigrad), torch.monitor (no event handlers), torch.fx.experimental.unification (internal
# helpers), torch.ao.pruning (no sparsifiers in minigrad), torch.utils.cpp_extension (compiles
# C++), torch.cuda/xpu/mps/distributed.

# Examples that need something outside the sweep's reach: (reason, pattern in the source).
# Examples written for CUDA run as their CPU variant first (:func:`cpu_variant`); what they still
# need of CUDA after that (``torch.cuda.*``) is skipped.
SKIPS = (
    ("cuda", re.compile(r"\bcuda\b|pin_memory")),
    ("network", re.compile(r"https?://|torch\.hub|download")),
    ("named tensors", re.compile(r"names=|refine_names|\.rename\(|align_to|align_as|\.names")),
    ("plotting", re.compile(r"matplotlib|mpl_toolkits|plt\.")),
    ("distributed", re.compile(r"torch\.distributed|process_group|init_process_group|symm_mem")),
    ("meta device / fake", re.compile(r"device=['\"]meta|FakeTensor")),
    ("aten-level tracing (make_fx)", re.compile(r"make_fx")),
    ("a compiled device backend (PrivateUse1)", re.compile(r"privateuse1|\bipu\b")),
    ("the dispatcher (per-dispatch-key kernels)", re.compile(r"with_keyset|call_boxed")),
)

# Legitimate differences: docstring key -> reason. Statements of these keys are not compared.
ALLOWED = {
    "torch:empty": "uninitialised memory: PyTorch prints whatever the allocator held",
    "torch:empty_strided": "uninitialised memory",
    "torch.Tensor:new_empty": "uninitialised memory",
    "torch.Tensor:new_empty_strided": "uninitialised memory",
    "torch:set_flush_denormal": "CPU feature query: minigrad (NumPy) has no flush-denormal mode",
    "torch.nn.utils:skip_init": "uninitialised memory: the parameters as torch.empty left them",
    "torch:empty_like": "uninitialised memory",
}

_RESIDUAL = (
    "size of a rounding residual (dist/norm of A·X - B, ~1e-7 in float32, ~1e-15 in float64): "
    "set by the LAPACK/BLAS build (PyTorch's MKL, NumPy's OpenBLAS)"
)
_INEXACT = (
    "a result within an ulp of an integer: PyTorch's LAPACK leaves it inexact (printed "
    "-14.0000, 1.0000), NumPy's gives it exactly (-14., 1.) or as -0."
)
_ALLCLOSE = "allclose at default tolerances of float32 results from another LAPACK/FFT: borderline"
_ZERO_SIGN = "sign of a zero imaginary part, chosen by the FFT/LAPACK library (MKL vs pocketfft)"
_WIDTH = (
    "'minigrad.' is 3 characters longer than 'torch.', so a dtype/layout suffix passes 80 "
    "columns and goes to the next line (same text otherwise)"
)
_F32_SUM = "float32 sums in another order (losses, layer-norm statistics): the last bits differ"
_CHOLESKY_MATMUL = (
    "A @ A.mH of complex float64: BLAS's fused multiply-adds leave ~1e-17 imaginary parts on "
    "the diagonal where PyTorch's MKL gives exact zeros"
)
_CONV_SUM = (
    "float32 convolution sums in another order (values 2 units apart in the 5th digit); "
    "PyTorch's own digits depend on the CPU's oneDNN kernel (ONEDNN_MAX_CPU_ISA changes them)"
)

# Legitimate differences of single statements: (docstring key, statement index) -> reason.
ALLOWED_STATEMENTS = {
    **{(k, i): _RESIDUAL for k, idx in (
        ("torch:cholesky", (10,)), ("torch:lu_solve", (4,)), ("torch:svd", (6, 9)),
        ("torch:cholesky_solve", (11,)), ("torch.linalg:cholesky", (5, 9)), ("torch.linalg:eig", (5, 8)),
        ("torch.linalg:inv", (2, 5, 8)), ("torch.linalg:ldl_solve", (5,)),
        ("torch.linalg:lstsq", (5, 7)), ("torch.linalg:norm", (19,)),
        ("torch.linalg:pinv", (5, 9)), ("torch.linalg:qr", (11, 12)),
        ("torch.linalg:svd", (3, 6, 9)),
    ) for i in idx},
    **{(k, i): _INEXACT for k in ("torch:qr", "torch.linalg:qr") for i in (3, 5)},
    ("torch.linalg:solve", 8): _ALLCLOSE,
    ("torch.linalg:solve_triangular", 7): _ALLCLOSE,
    ("torch.fft:hfft2", 5): _ALLCLOSE,
    ("torch.fft:hfftn", 5): _ALLCLOSE,
    ("torch.linalg:eigh", 5): _ZERO_SIGN,
    ("torch.fft:hfft", 3): _ZERO_SIGN,
    ("torch.fft:ihfft", 3): _ZERO_SIGN,
    ("torch:float_power", 7): _WIDTH,
    ("torch.Tensor:to_sparse", 6): _WIDTH,
    ("torch:quantize_per_tensor_dynamic", 1): _WIDTH,
    ("torch.nn:CrossEntropyLoss", 15): _F32_SUM,
    ("torch.nn:CrossEntropyLoss", 18): _F32_SUM,
    ("torch.nn:CrossEntropyLoss", 19): _F32_SUM,
    ("torch.nn:LayerNorm", 3): _F32_SUM,
    ("torch.linalg:cholesky", 2): _CHOLESKY_MATMUL,
    ("torch.linalg:cholesky_ex", 3): _CHOLESKY_MATMUL,
    ("torch:conv1d", 2): _CONV_SUM,
    ("torch.nn.functional:conv1d", 2): _CONV_SUM,
    ("torch.nn.grad:conv3d_weight", 5): _CONV_SUM,
    ("torch.nn:Unfold", 14): (
        "minigrad's conv2d is this very unfold + matmul, so the difference is exactly 0; "
        "PyTorch's direct convolution sums in another order (5.7e-06)"
    ),
    ("torch:cholesky_inverse", 8): _RESIDUAL,
    ("torch.nn.utils.parametrizations:orthogonal", 3): _RESIDUAL,
    **{(key, 4): (
        "the grad_fn of a create_graph=True result names the last op of each library's formula "
        "(PyTorch computes jvp/hvp by the double-vjp trick); the values are equal"
    ) for key in ("torch.autograd.functional:hvp", "torch.autograd.functional:jvp")},
    ("torch.distributions:LKJCholesky", 1): (
        "on purpose (minigrad.distributions.LKJCholesky._row_beta): PyTorch 2.13's onion method "
        "draws rows i >= 2 from Beta(i - 1/2, ...), which lacks LKJ's marginals"
    ),
    ("torch.distributions:Wishart", 1): (
        "on purpose (minigrad.distributions.Wishart.rsample): PyTorch 2.13 tests singularity the "
        "wrong way round and replaces every valid draw by a second one"
    ),
    ("torch.nn.attention.varlen:varlen_attn", 12): (
        "the CPU variant of a CUDA example: PyTorch's varlen_attn runs only through CUDA "
        "flash-attention kernels, minigrad's (the same attention, per sequence) on the CPU too"
    ),
    ("torch.linalg:eigh", 6): _RESIDUAL,
    ("torch:inference_mode", 4): (
        "no inference tensors in minigrad (documented on Tensor.is_inference): a tensor made "
        "under inference_mode keeps its version counter"
    ),
    ("torch:set_default_dtype", 7): (
        "minigrad has no complex32 (NumPy has no complex half): complex numbers under a float16 "
        "default dtype raise NotImplementedError naming it"
    ),
    **{(key, 2): "profiler tables: measured CPU times (and PyTorch's aten-level op names)"
       for key in ("torch.autograd.profiler:record_function", "torch.profiler:record_function")},
    ("torch.nn.attention:activate_flash_attention_impl", 0): (
        "FA4 is an external package of CUDA kernels (flash_attn): PyTorch fails to import it "
        "here (ModuleNotFoundError), minigrad, which could not run it, says so "
        "(NotImplementedError naming sdpa_kernel)"
    ),
    ("torch.autograd.profiler:emit_itt", 0): (
        "Intel VTune ITT ranges: minigrad's emit_itt raises NotImplementedError on entering "
        "(its ops carry no ITT instrumentation); PyTorch's runs, then the example's undefined "
        "model raises NameError"
    ),
    ("torch:Generator.seed", 1): "a non-deterministic seed (from std::random_device / the OS)",
    ("torch.serialization:safe_globals", 4): (
        "PyTorch 2.13 lists its own classes (NestedTensor, _rebuild_njt, DeviceMesh layouts) as "
        "safe globals from import on, so the docstring's assertion fails in PyTorch itself; "
        "minigrad's list starts empty"
    ),
    ("torch.overrides:get_testing_overrides", 2): (
        "PyTorch's testing dummies copy hand-written signatures; minigrad's take any arguments "
        "(documented on minigrad.overrides.get_testing_overrides)"
    ),
    ("torch.compiler:substitute_in_graph", 2): (
        "Dynamo cannot trace the builtin operator.indexOf (the docstring's point); minigrad's "
        "compile records array calls of any Python and compiles it"
    ),
    **{(key, i): "torch.dot is a C builtin in PyTorch, a Python function here (its repr)"
       for key in ("torch:vmap", "torch.func:vmap") for i in (0, 21, 25, 29)},
}  # fmt: skip

# Statements that differ in a way the comparison tolerates: numbers one unit apart in the last
# printed digit (float32 sums in another order; random float32 data 1-3 ulps from PyTorch's
# until float32 randn is bit-exact).
TOLERATED = frozenset({"last digit"})

_DIGIT = re.compile(r"\d")
_ADDR = re.compile(r" at 0x[0-9a-f]+")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf|nan)")


def normalize(text: str) -> str:
    """Module names and object addresses out of a repr: ``minigrad.float32`` -> ``torch.float32``."""
    return _ADDR.sub(" at 0x?", text.replace("minigrad", "torch"))


def _objects(modname: str, more: bool):
    """``(name, object)`` for the public names of module ``modname`` (of ``more`` modules,
    only objects whose ``__module__`` is torch's)."""
    import torch

    mod = torch.Tensor if modname == "torch.Tensor" else importlib.import_module(modname)
    for name in dir(mod):
        if name.startswith("_"):
            continue
        try:
            obj = getattr(mod, name)
        except Exception:
            continue
        if more and not str(getattr(obj, "__module__", "")).startswith("torch"):
            continue
        yield name, obj


def _methods(cls) -> dict:
    """A torch class's own public methods and properties (``vars``: inherited ones are swept
    with the class that defines them), name -> the function that carries the docstring."""
    out = {}
    for name, member in vars(cls).items():
        if not name.startswith("_"):
            member = member.fget if isinstance(member, property) else member
            out[name] = getattr(member, "__func__", member)
    return out


def collect(modules=MODULES, more=MORE_MODULES) -> dict[str, list[str]]:
    """Docstring key (``module:name``, ``module:Class.method`` for the methods of the classes
    found there) -> example sources, from the installed PyTorch. A method's docstring is swept
    once, and not where a module-level name (a ``torch.Tensor`` method) already carries it."""
    import torch

    docs, seen, classes = {}, set(), []

    def add(key, doc, method=False):
        if isinstance(doc, str) and ">>>" in doc and not (method and doc in seen):
            seen.add(doc)
            with contextlib.suppress(ValueError):
                docs[key] = examples(doc)

    for modname in (*modules, *more):
        for name, obj in _objects(modname, modname in more):
            add(f"{modname}:{name}", getattr(obj, "__doc__", None))
            if isinstance(obj, type) and not issubclass(obj, torch.Tensor):
                classes.append((f"{modname}:{name}", obj))
    for key, cls in classes:
        if str(getattr(cls, "__module__", "")).startswith("torch"):
            for name, member in _methods(cls).items():
                add(f"{key}.{name}", getattr(member, "__doc__", None), method=True)
    return docs


_CUDA_DEVICE = re.compile(r"""(['"])cuda(?::\d+)?\1""")
_CUDA_METHOD = re.compile(r"\.cuda\([^()]*\)")


def cpu_variant(source: str) -> str:
    """An example written for CUDA as its CPU variant: ``'cuda'``/``'cuda:N'`` device strings
    become ``'cpu'`` and ``.cuda(...)`` ``.cpu()``, so that the rest of it still compares
    PyTorch's semantics with minigrad's on a machine without a GPU."""
    return _CUDA_METHOD.sub(".cpu()", _CUDA_DEVICE.sub(r"\1cpu\1", source))


def examples(doc: str) -> list[str]:
    """The sources of the ``>>>`` examples of ``doc``, as the sweep runs them."""
    return [cpu_variant(e.source) for e in doctest.DocTestParser().get_examples(doc)]


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
    """Same starting state for every docstring: seeds, default device and dtype, print options,
    grad mode."""
    torch.manual_seed(0)
    torch.set_grad_enabled(True)
    random.seed(0)
    import numpy as np

    np.random.seed(0)
    torch.set_default_device(None)
    torch.set_default_dtype(torch.float32)
    torch.set_printoptions(profile="default")
    torch.use_deterministic_algorithms(False)


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


def run_docs(docs: dict[str, list[str]], timeout: int = 5, seconds: dict | None = None) -> dict:
    """Run every docstring's statements with whatever ``import torch`` gives now; the CPU
    time each docstring took (the process's, so that a busy machine does not make a docstring
    slow) is added to ``seconds[key]`` when given."""
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    _import_lazy_dependencies(torch)
    previous = signal.signal(signal.SIGALRM, _alarm)
    out = {}
    cwd = os.getcwd()
    try:
        for key, sources in docs.items():
            start = time.process_time()
            _reset(torch)
            ns = {"torch": torch, "nn": nn, "F": F, "np": np, "math": math, "io": io}
            ns.update(_own_name(key))
            # a fresh working directory: examples that save files write there, and one
            # docstring's files cannot reach another's
            with tempfile.TemporaryDirectory(prefix="doc_examples_") as work:
                os.chdir(work)
                try:
                    out[key] = [run_statement(src, ns, timeout) for src in sources]
                finally:
                    os.chdir(cwd)
            if seconds is not None:
                seconds[key] = seconds.get(key, 0.0) + time.process_time() - start
    finally:
        signal.signal(signal.SIGALRM, previous)
        _reset(torch)
    return out


def _own_name(key: str) -> dict:
    """The documented object under its bare name (``Version`` for ``torch.torch_version:
    Version.epoch``) and its module under its last name (``prune`` for ``torch.nn.utils.prune:
    l1_unstructured``), from whatever ``torch`` is now: doctest runs examples in the globals of
    the module that defines them, and examples use the names so (``Version("1.0a5")``,
    ``prune.l1_unstructured(...)``, ``linalg.vecdot(...)``)."""
    modname, _, name = key.partition(":")
    top = name.partition(".")[0]
    if modname == "torch.Tensor":
        return {}
    try:
        module = importlib.import_module(modname)
    except ImportError:
        return {}
    names = {modname.rpartition(".")[2]: module}
    with contextlib.suppress(AttributeError):
        names[top] = getattr(module, top)
    return names


def _import_lazy_dependencies(torch) -> None:
    """Import what PyTorch imports on first use (sympy, through ``torch.testing``) before any
    statement's alarm is set: an alarm firing inside that import (a busy machine) would leave
    it half-initialised for every later docstring ("module 'sympy' has no attribute
    'printing'")."""
    with contextlib.suppress(ImportError):
        import sympy  # noqa: F401
    torch.testing.assert_close(torch.zeros(1), torch.zeros(1))


def run_both(docs: dict[str, list[str]], timeout: int = 5, seconds=None) -> tuple[dict, dict]:
    """Results with PyTorch, then with minigrad as torch (one process)."""
    import minigrad.as_torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = run_docs(docs, timeout, seconds)
        with minigrad.as_torch.imports():
            mine = run_docs(docs, timeout, seconds)
    return ref, mine


def _last_digit_close(a: str, b: str) -> bool:
    """Same text apart from numbers printed alike that differ by at most one unit of the last
    printed digit (random float32 data may differ by 1-3 ulps from PyTorch's until float32
    randn is bit-exact; sums in another order round differently)."""
    na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
    if len(na) != len(nb) or _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    for x, y in zip(na, nb):
        if x == y:
            continue
        if _DIGIT.sub("d", x) != _DIGIT.sub("d", y):  # another format (-0. vs 0., 1. vs 1.0000)
            return False
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
    """Docstring key -> [(statement index, category)] of every differing statement that is
    not an allowed difference (tolerated categories included: see :data:`TOLERATED`)."""
    diffs = {}
    for key, results in ref.items():
        if key in ALLOWED:
            continue
        found = [
            (i, c)
            for i, (r, m) in enumerate(zip(results, mine[key]))
            if (key, i) not in ALLOWED_STATEMENTS and (c := category(r, m))
        ]
        if found:
            diffs[key] = found
    return diffs


def failures(diffs: dict) -> dict:
    """The differences that count as mismatches (tolerated categories left out)."""
    out = {k: [(i, c) for i, c in v if c not in TOLERATED] for k, v in diffs.items()}
    return {k: v for k, v in out.items() if v}


def check_pass_file(timeout: int = 5) -> int:
    """Run the docstrings of the pass file; print each mismatch; 1 if any, else 0."""
    keys = PASS_FILE.read_text().split()
    docs = collect_keys(keys)
    ref, mine = run_both(docs, timeout)
    bad = failures(compare(ref, mine))
    for key, found in bad.items():
        for i, c in found:
            print(f"{key} statement {i} [{c}]: {docs[key][i].strip()!r}")
            print(f"  torch:    {ref[key][i][0]} {ref[key][i][1][:300]!r}")
            print(f"  minigrad: {mine[key][i][0]} {mine[key][i][1][:300]!r}")
    print(f"{len(docs)} docstrings, {sum(map(len, docs.values()))} statements, {len(bad)} differ")
    return 1 if bad or len(docs) != len(keys) else 0


def _as_checked(keys: list[str], timeout: int) -> list[str]:
    """``keys`` without those that differ when run as ``--check-pass`` runs them (only these,
    in this order, in a fresh process): what one docstring leaves behind (a hook, a mode) can
    change a later one's output, so that a docstring matching in the whole sweep may not in
    the pass list. Writes the pass file."""
    PASS_FILE.write_text("".join(k + "\n" for k in keys))
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--check-pass", "--timeout", str(timeout)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    bad = {
        line.split(" statement ")[0] for line in done.stdout.splitlines() if " statement " in line
    }
    for key in sorted(bad):
        print(f"{key}: differs when the pass list runs alone; left out")
    return [k for k in keys if k not in bad]


def collect_keys(keys) -> dict[str, list[str]]:
    """The examples of the docstrings ``keys`` (``module:name``) only."""
    import torch

    docs = {}
    for key in keys:
        modname, _, name = key.partition(":")
        obj = torch.Tensor if modname == "torch.Tensor" else importlib.import_module(modname)
        cls, _, method = name.partition(".")
        obj = getattr(obj, cls)
        if method:
            obj = _methods(obj)[method]
        docs[key] = examples(obj.__doc__)
    return docs


def main(argv=None) -> int:
    """Run the sweep and print the counts (and, with -v, each differing statement)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="docstring keys to run (module:name)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json", help="write both runs' results here")
    ap.add_argument("--write-pass", action="store_true", help=f"rewrite {PASS_FILE.name}")
    ap.add_argument("--check-pass", action="store_true", help=f"run {PASS_FILE.name} only")
    ap.add_argument("--timeout", type=int, default=5, help="seconds per statement")
    ap.add_argument(
        "--fast", type=float, default=0.05, help="--write-pass: CPU seconds at most (both runs)"
    )
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    if args.check_pass:
        return check_pass_file(args.timeout)
    docs = collect()
    if args.only:
        docs = {k: v for k, v in docs.items() if k in args.only}
    skipped = {k: r for k, v in docs.items() if (r := skip_reason(v))}
    run = {k: v for k, v in docs.items() if k not in skipped}
    start, seconds = time.perf_counter(), {}
    ref, mine = run_both(run, args.timeout, seconds)
    diffs = compare(ref, mine)
    report(docs, skipped, run, diffs, ref, mine, args.verbose)
    print(f"seconds: {time.perf_counter() - start:.1f}")
    if args.json:
        results = {"torch": ref, "minigrad": mine, "diffs": diffs, "seconds": seconds}
        Path(args.json).write_text(json.dumps(results))
    if args.write_pass:
        bad = failures(diffs)
        passing = sorted(
            k for k in run if k not in bad and k not in ALLOWED and seconds[k] <= args.fast
        )
        passing = _as_checked(passing, args.timeout)
        PASS_FILE.write_text("".join(k + "\n" for k in passing))
        print(f"{PASS_FILE.name}: {len(passing)} docstrings ({len(run) - len(passing)} left out)")
    return 0


def report(docs, skipped, run, diffs, ref, mine, verbose) -> None:
    """Print counts: docstrings, statements, skip reasons, matches, mismatch categories."""
    bad = failures(diffs)
    n_stmt = sum(len(v) for v in run.values())
    allowed = sum(len(v) for k, v in run.items() if k in ALLOWED)
    allowed += sum(k in run for k, _ in ALLOWED_STATEMENTS)
    tolerated = sum(c in TOLERATED for found in diffs.values() for _, c in found)
    n_bad = sum(map(len, bad.values()))
    print(f"docstrings with examples: {len(docs)}; skipped: {len(skipped)}; run: {len(run)}")
    for reason in sorted(set(skipped.values())):
        print(f"  skipped ({reason}): {sum(r == reason for r in skipped.values())}")
    clean = [k for k in run if k not in diffs and k not in ALLOWED]
    print(f"docstrings matching at every statement: {len(clean)}")
    print(f"docstrings matching apart from allowed/tolerated differences: {len(run) - len(bad)}")
    print(f"statements run: {n_stmt}; identical: {n_stmt - allowed - tolerated - n_bad}; ")
    print(f"  allowed differences (ALLOWED*): {allowed}; last digit (tolerated): {tolerated}")
    print(f"  differing: {n_bad}")
    counts: dict[str, int] = {}
    for found in bad.values():
        for _, c in found:
            counts[c] = counts.get(c, 0) + 1
    for c, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"    {c}: {n} statements")
    if verbose:
        for key, found in diffs.items():
            for i, c in found:
                print(f"===== {key} stmt {i} [{c}]\n{run[key][i].rstrip()}")
                print(f"TORCH: {ref[key][i][0]} {ref[key][i][1][:600]}")
                print(f"MINI : {mine[key][i][0]} {mine[key][i][1][:600]}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
