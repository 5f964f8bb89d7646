"""The fused GPU kernels (minigrad._fused) against the unfused path.

On the ``fakegpu`` stand-in the kernels' NumPy twins run; on ``cuda`` (marked gpu) the CUDA
kernels. Each test computes the same thing twice on the same device, fused and with the
kernels switched off, and checks that the fused kernel did run (or, for what the kernels do
not handle, that it did not). The CUDA sources are checked without a GPU too: the kernel
objects construct, the call sites match the declared parameters, and (where nvcc is
installed) the sources compile to PTX.
"""

import contextlib
import re
import shutil
import subprocess

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import _fused
from minigrad._fused import cuda as fused_cuda
from minigrad._fused import twins

DEVICES = ["fakegpu"] + (["cuda"] if minigrad.cuda.is_available() else [])
DTYPES = [minigrad.float32, minigrad.float64]
TOL = {minigrad.float32: dict(rtol=2e-5, atol=2e-6), minigrad.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture
def calls(device, monkeypatch):
    """How often each fused operation ran on ``device`` (counted around its kit's methods)."""
    kit = minigrad.device(device).backend.fused
    counts: dict = {}
    for name in ("_sgd", "_adam", "gelu", "gelu_backward", "softmax", "softmax_backward",
                 "layer_norm", "layer_norm_backward", "cross_entropy",
                 "cross_entropy_backward"):  # fmt: skip
        original = getattr(kit, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            counts[_name] = counts.get(_name, 0) + 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(kit, name, counted)
    return counts


def _host(t):
    return None if t is None else t.detach().cpu().numpy()


def _forward_backward(fn, shape, dtype, device, seed=0, create_graph=False, probe=None):
    """fn(x)'s value, x.grad for a random upstream gradient, and with ``create_graph`` the
    gradient of Σ x.grad·v (a second derivative) too; ``probe()`` runs after the first."""
    minigrad.manual_seed(seed)
    x = (minigrad.randn(*shape, dtype=dtype) * 2).to(device).requires_grad_()
    y = fn(x)
    gy = minigrad.randn(*y.shape, dtype=dtype).to(device)
    (gx,) = minigrad.autograd.grad(y, x, gy, create_graph=create_graph)
    if probe is not None:
        probe()
    if not create_graph:
        return _host(y), _host(gx)
    v = minigrad.randn(*shape, dtype=dtype).to(device)
    (ggx,) = minigrad.autograd.grad((gx * v).sum(), x)
    return _host(y), _host(gx), _host(ggx)


def _compare(fn, shape, dtype, device, create_graph=False, probe=None):
    fused = _forward_backward(fn, shape, dtype, device, create_graph=create_graph, probe=probe)
    with _fused.disabled():
        plain = _forward_backward(fn, shape, dtype, device, create_graph=create_graph)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, **TOL[dtype])


TARGET = [1, 3, -100, 6, 0, 2]
OPS = {
    "gelu": (lambda x: F.gelu(x), (6, 33), ("gelu", "gelu_backward")),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), (6, 33), ("gelu", "gelu_backward")),
    "softmax": (lambda x: F.softmax(x, -1), (2, 3, 300), ("softmax", "softmax_backward")),
    "log_softmax": (lambda x: F.log_softmax(x, 1), (4, 7), ("softmax", "softmax_backward")),
    "layer_norm": (lambda x: F.layer_norm(x, (5,)), (3, 4, 5), ("layer_norm",)),
    "layer_norm_2d": (lambda x: F.layer_norm(x, (4, 5)), (3, 4, 5), ("layer_norm",)),
    "cross_entropy": (
        lambda x: F.cross_entropy(x, minigrad.tensor(TARGET, device=x.device)),
        (6, 7),
        ("cross_entropy", "cross_entropy_backward"),
    ),
    "cross_entropy_sum_smoothed": (
        lambda x: F.cross_entropy(
            x, minigrad.tensor(TARGET, device=x.device), reduction="sum", label_smoothing=0.2
        ),
        (6, 7),
        ("cross_entropy", "cross_entropy_backward"),
    ),
    "cross_entropy_none_weighted": (
        lambda x: F.cross_entropy(
            x,
            minigrad.tensor(TARGET, device=x.device),
            weight=minigrad.linspace(0.5, 2.0, 7, dtype=x.dtype, device=x.device),
            reduction="none",
            label_smoothing=0.1,
        ),
        (6, 7),
        ("cross_entropy", "cross_entropy_backward"),
    ),
    "cross_entropy_mean_weighted_3d": (
        lambda x: F.cross_entropy(
            x,
            minigrad.tensor([[0, 4, -100], [1, 2, 3]], device=x.device),
            weight=minigrad.linspace(0.5, 2.0, 5, dtype=x.dtype, device=x.device),
            label_smoothing=0.3,
        ),
        (2, 5, 3),
        ("cross_entropy", "cross_entropy_backward"),
    ),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(OPS))
def test_fused_op_equals_unfused(name, dtype, device, calls):
    fn, shape, kernels = OPS[name]
    _compare(fn, shape, dtype, device)
    for kernel in kernels:
        assert calls.get(kernel) == 1, (kernel, calls)


def test_layer_norm_affine_gradients(device, calls):
    """weight and bias gradients (the column-sum kernel), with and without each."""
    for dtype in DTYPES:
        for use_w, use_b in [(True, True), (True, False), (False, True)]:
            results = []
            for off in (False, True):
                minigrad.manual_seed(1)
                x = minigrad.randn(70, 6, dtype=dtype).to(device).requires_grad_()
                w = minigrad.randn(6, dtype=dtype).to(device).requires_grad_() if use_w else None
                b = minigrad.randn(6, dtype=dtype).to(device).requires_grad_() if use_b else None
                gy = minigrad.randn(70, 6, dtype=dtype).to(device)
                with _fused.disabled() if off else contextlib.nullcontext():
                    F.layer_norm(x, (6,), w, b).backward(gy)
                results.append([_host(t.grad) for t in (x, w, b) if t is not None])
            for a, b_ in zip(*results):
                np.testing.assert_allclose(a, b_, **TOL[dtype])
    assert calls["layer_norm_backward"] == 6


@pytest.mark.parametrize("name", list(OPS))
def test_create_graph_takes_the_differentiable_formula(name, device, calls):
    """Second derivatives after a fused forward equal the unfused ones; the fused backward
    kernels do not run under create_graph (the plain backward after it may use them)."""
    fn, shape, kernels = OPS[name]
    seen = []
    _compare(
        fn,
        shape,
        minigrad.float64,
        device,
        create_graph=True,
        probe=lambda: seen.append(dict(calls)),
    )
    (first,) = seen
    assert first[kernels[0]] == 1 and not any(k.endswith("backward") for k in first), first


def test_unhandled_inputs_take_the_unfused_path(device, calls):
    """Softmax over another dim, probability targets: no kernel, same results. (float16 GELU
    and layer norm compute in float32, as PyTorch's kernels: they take the float32 kernels.)"""
    _compare(lambda x: F.softmax(x, 0), (3, 4), minigrad.float64, device)
    probs = minigrad.full((4, 3), 1 / 3, dtype=minigrad.float64, device=device)
    _compare(lambda x: F.cross_entropy(x, probs), (4, 3), minigrad.float64, device)
    assert calls == {}, calls


def test_empty_inputs_take_the_unfused_path(device, calls):
    x = minigrad.zeros(0, 5, device=device, requires_grad=True)
    F.gelu(F.softmax(x, -1)).sum().backward()
    assert x.grad.shape == (0, 5) and calls == {}


OPTIMIZERS = {
    "sgd": lambda ps: minigrad.optim.SGD(ps, lr=0.1),
    "sgd_momentum_decay": lambda ps: minigrad.optim.SGD(
        ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01
    ),
    "sgd_nesterov_maximize": lambda ps: minigrad.optim.SGD(
        ps, lr=0.05, momentum=0.8, nesterov=True, maximize=True, weight_decay=0.1
    ),
    "adam": lambda ps: minigrad.optim.Adam(ps, lr=0.01),
    "adam_l2_amsgrad": lambda ps: minigrad.optim.Adam(
        ps, lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.99)
    ),
    "adamw_maximize": lambda ps: minigrad.optim.AdamW(ps, lr=0.01, maximize=True),
    "adamw_amsgrad": lambda ps: minigrad.optim.AdamW(ps, lr=0.02, amsgrad=True, eps=1e-6),
}


def _train(make, dtype, device, steps=6):
    minigrad.manual_seed(3)
    params = [minigrad.randn(*s, dtype=dtype).to(device).requires_grad_() for s in [(4, 5), (5,)]]
    opt = make(params)
    for step in range(steps):
        minigrad.manual_seed(100 + step)  # the same gradients for both runs
        for p in params:
            p.grad = minigrad.randn(*p.shape, dtype=dtype).to(device)
        opt.step()
    state = [
        _host(v) for s in opt.state.values() for k, v in sorted(s.items()) if k != "step"
    ]  # fmt: skip
    return [_host(p) for p in params] + state


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_fused_optimizer_step_equals_unfused(name, dtype, device, calls):
    fused = _train(OPTIMIZERS[name], dtype, device)
    with _fused.disabled():
        plain = _train(OPTIMIZERS[name], dtype, device)
    assert len(fused) == len(plain) >= 2
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, **TOL[dtype])
    kernel = "_sgd" if name.startswith("sgd") else "_adam"
    assert calls[kernel] == 12


def test_fused_optimizer_matches_the_cpu(device):
    for name in ("sgd_nesterov_maximize", "adam_l2_amsgrad", "adamw_maximize"):
        for a, b in zip(
            _train(OPTIMIZERS[name], minigrad.float64, device),
            _train(OPTIMIZERS[name], minigrad.float64, "cpu"),
        ):
            np.testing.assert_allclose(a, b, **TOL[minigrad.float64])


def test_optimizer_with_other_state_dtype_falls_back(device, calls):
    """A momentum buffer of another dtype (as a hand-edited state could hold): no kernel."""
    p = minigrad.ones(3, device=device, requires_grad=True)
    opt = minigrad.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = minigrad.ones(3, device=device)
    opt.step()
    opt.state[p]["momentum_buffer"] = opt.state[p]["momentum_buffer"].double()
    opt.step()
    assert calls["_sgd"] == 1
    np.testing.assert_allclose(_host(p), 1 - 0.1 - 0.1 * 1.9, rtol=1e-6)


def test_switching_off_is_scoped():
    assert _fused.is_enabled()
    assert isinstance(minigrad.device("fakegpu").backend.fused, twins.TwinKit)
    with _fused.disabled():
        assert minigrad.device("fakegpu").backend.fused is None
    assert minigrad.device("cpu").backend.fused is None  # the CPU has no fused kernels
    assert _fused.is_enabled()


# -- the CUDA sources, without a GPU ---------------------------------------------------------------


def test_elementwise_kernels_construct_with_cupy():
    """CuPy parses each kernel's parameter lists (construction compiles nothing)."""
    cupy = pytest.importorskip("cupy")
    kit = fused_cuda.CudaKit(cupy)
    for name, (in_params, out_params, _) in fused_cuda.ELEMENTWISE.items():
        k = kit.kernel(name)
        assert [p.name for p in k.in_params] == [p.split()[-1] for p in in_params.split(",")]
        assert k.nout == len(out_params.split(","))


_RAW_SIGNATURE = re.compile(r'extern "C" __global__ void (\w+)\(([^)]*)\)')


def test_row_kernel_signatures_match_the_source():
    found = {}
    for name, params in _RAW_SIGNATURE.findall(fused_cuda.ROW_SOURCE):
        types = []
        for param in params.split(","):
            words = param.replace("const ", "").split()
            types.append(" ".join(words[:-1]) + ("*" if words[-1].startswith("*") else ""))
        found[name] = tuple(t.replace(" *", "*") for t in types)
    assert found == fused_cuda.ROW_KERNELS


class _RecordingCupy:
    """Enough of ``cupy`` (on NumPy arrays) for CudaKit's call sites to run: each launch checks
    its arguments against the kernel's declared parameters and returns zeros."""

    def __init__(self, cupy):
        self._cupy, self.launches = cupy, []
        self.ascontiguousarray, self.empty_like, self.empty = (
            np.ascontiguousarray, np.empty_like, np.empty,
        )  # fmt: skip

    def ElementwiseKernel(self, in_params, out_params, operation, name):
        real = self._cupy.ElementwiseKernel(in_params, out_params, operation, name)

        def launch(*args):
            assert len(args) in (real.nin, real.nin + real.nout), (name, len(args))
            if name.startswith(("mg_sgd", "mg_adam")):  # in place: the outputs must be given
                assert len(args) == real.nin + real.nout, name
            arrays = [a for a in args if isinstance(a, np.ndarray)]
            dtype = arrays[0].dtype
            for param, arg in zip(real.in_params + real.out_params, args):
                _check_elementwise_arg(name, param, arg, dtype)
            self.launches.append(name)
            return np.zeros_like(arrays[0])

        return launch

    def RawModule(self, code):
        dtype = np.float32 if "typedef float T;" in code else np.float64
        recorder = self

        class Module:
            def get_function(self, name):
                def launch(grid, block, args):
                    assert block == (fused_cuda.BLOCK,) and all(g > 0 for g in grid)
                    params = fused_cuda.ROW_KERNELS[name]
                    assert len(args) == len(params), name
                    for ctype, arg in zip(params, args):
                        _check_raw_arg(name, ctype, arg, dtype)
                    recorder.launches.append(name)

                return launch

        return Module()


def _check_elementwise_arg(name, param, arg, dtype):
    if param.dtype is None or param.raw:  # T (the arrays' dtype: arrays and scalars) or raw
        want = dtype if param.dtype is None else param.dtype
        assert np.asarray(arg).dtype == want, (name, param.name, np.asarray(arg).dtype)
        return
    python_type = bool if param.dtype == np.bool_ else int  # typed scalars: Python values
    assert type(arg) is python_type, (name, param.name, arg)


def _check_raw_arg(name, ctype, arg, dtype):
    want = {"T*": dtype, "long long*": np.int64, "long long": np.int64, "int": np.int32, "T": dtype}
    assert isinstance(arg, (np.ndarray, np.generic)), (name, ctype, arg)
    assert arg.dtype == want[ctype], (name, ctype, arg.dtype)
    if ctype.endswith("*"):
        assert arg.flags.c_contiguous, (name, ctype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_call_sites_match_the_kernels(dtype):
    """Every CudaKit method launches its kernels with the declared parameters, in order."""
    cupy = pytest.importorskip("cupy")
    cp = _RecordingCupy(cupy)
    kit = fused_cuda.CudaKit(cp)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((70, 9)).astype(dtype)
    w = rng.standard_normal(9).astype(dtype)
    mean, rstd = np.zeros(70, dtype), np.ones(70, dtype)
    target = rng.integers(0, 9, 70)
    for buf, first in [(None, False), (x.copy(), True)]:
        kit.sgd_(x.copy(), x, buf, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.1,
                 nesterov=True, maximize=False, first=first)  # fmt: skip
    for vmax in (None, x.copy()):
        kit.adam_(x.copy(), x, x.copy(), x.copy(), vmax, lr=0.1, betas=(0.9, 0.99), eps=1e-8,
                  weight_decay=0.1, decoupled=True, maximize=True, step=3)  # fmt: skip
    for tanh in (False, True):
        kit.gelu(x, tanh)
        kit.gelu_backward(x, x, tanh)
    kit.softmax(x[:, ::2], True)  # a non-contiguous input is made contiguous
    kit.softmax_backward(x, x, False)
    kit.layer_norm(x, w, None, 1e-5)
    kit.layer_norm_backward(x, x, w, mean, rstd, True, True)
    kit.layer_norm_backward(x, x, None, mean, rstd, False, True)
    for weight in (None, w):
        kit.cross_entropy(x, target, weight, -100, 0.1)
        for scale in (np.ones((), dtype), np.ones(70, dtype)):
            kit.cross_entropy_backward(x, mean, rstd, target, weight, -100, 0.1, scale)
    assert set(cp.launches) == set(fused_cuda.ELEMENTWISE) | set(fused_cuda.ROW_KERNELS)


def _elementwise_as_cuda(name) -> str:
    """An ElementwiseKernel's body inside a kernel of the shape CuPy generates: inputs as
    values at index i, outputs as references, raw parameters as pointers."""
    in_params, out_params, operation = fused_cuda.ELEMENTWISE[name]
    ctypes = {"T": "T", "int64": "long long", "int32": "int", "bool": "bool"}
    params, lines = [], []
    for param in in_params.split(","):
        *kind, pname = param.split()
        ctype = ctypes[kind[-1]]
        if kind[0] == "raw":
            params.append(f"const {ctype}* {pname}")
        else:
            params.append(f"const {ctype}* {pname}_")
            lines.append(f"const {ctype} {pname} = {pname}_[i];")
    for param in out_params.split(","):
        ctype, pname = param.split()
        params.append(f"{ctypes[ctype]}* {pname}_")
        lines.append(f"{ctypes[ctype]}& {pname} = {pname}_[i];")
    head = f'extern "C" __global__ void {name}({", ".join(params)}) {{\n'
    index = "long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
    return head + index + "\n".join(lines) + "\n" + operation + "\n}\n"


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc (the CUDA toolkit)")
@pytest.mark.parametrize("ctype", ["float", "double"])
def test_cuda_sources_compile(ctype, tmp_path):
    """nvcc compiles every kernel to PTX (no GPU needed): syntax, types and overloads."""
    dtype = np.float32 if ctype == "float" else np.float64
    source = fused_cuda.row_source(dtype) + "".join(
        _elementwise_as_cuda(name) for name in fused_cuda.ELEMENTWISE
    )
    path = tmp_path / "kernels.cu"
    path.write_text(source)
    done = subprocess.run(
        ["nvcc", "-ptx", "-arch=compute_80", "-Werror", "all-warnings",
         str(path), "-o", str(tmp_path / "kernels.ptx")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ptx = (tmp_path / "kernels.ptx").read_text()
    for name in list(fused_cuda.ELEMENTWISE) + list(fused_cuda.ROW_KERNELS):
        assert f".entry {name}(" in ptx, name


def test_gpu_benchmark_runs(device):
    """``python -m benchmarks.fused_gpu`` at tiny sizes (a smoke run; its figures are not
    checked: no timed assertions)."""
    fused_gpu = pytest.importorskip("benchmarks.fused_gpu")
    results = fused_gpu.run(device, repeats=1, small=True)
    assert set(results) == set(fused_gpu._OPS) | set(fused_gpu._OPTIMIZERS)
    assert all(t["fused"] > 0 and t["unfused"] > 0 for t in results.values())
