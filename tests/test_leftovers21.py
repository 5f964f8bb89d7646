"""Session 21's leftovers: result layouts (strides and storage offsets) as PyTorch's."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

_VALUES = np.random.default_rng(21).permutation(120).astype(np.float64).reshape(2, 3, 4, 5)


def _input(lib, kind):
    x = lib.tensor(_VALUES)
    return {
        "contiguous": lambda: x,
        "channels_last": lambda: x.contiguous(memory_format=lib.channels_last),
        "transposed": lambda: x.transpose(1, 3),
        "sliced": lambda: x[:, 1:, ::2],
        "size1_cl": lambda: lib.tensor(_VALUES[:, :, :1].copy()).contiguous(
            memory_format=lib.channels_last
        ),
        "t31": lambda: lib.tensor(_VALUES[0, 0, :1, :3].copy()).t(),
        "t2": lambda: lib.tensor(_VALUES[0, 0].copy()).t(),
    }[kind]()


_CASES = {
    "add_number": lambda lib, x: x + 1,
    "mul_number": lambda lib, x: 2 * x,
    "div_number": lambda lib, x: x / 2,
    "sub_0d": lambda lib, x: x - lib.tensor(1.0, dtype=lib.float64),
    "where": lambda lib, x: lib.where(x > 3, x, 0.0),
    "std": lambda lib, x: x.std(1, keepdim=True),
    "var_mean": lambda lib, x: lib.var_mean(x, -1)[0],
    "std_mean": lambda lib, x: lib.std_mean(x, 0, keepdim=True)[1],
    "max": lambda lib, x: x.max(1),
    "min": lambda lib, x: x.min(-1, keepdim=True),
    "sort": lambda lib, x: x.sort(1),
    "sort_last": lambda lib, x: x.sort(-1, descending=True),
    "argsort": lambda lib, x: x.argsort(0),
    "topk": lambda lib, x: x.topk(1, 1),
    "topk_last": lambda lib, x: x.topk(1),
    "kthvalue": lambda lib, x: x.kthvalue(1, 1),
    "mode": lambda lib, x: x.mode(-1, keepdim=True),
    "median": lambda lib, x: x.median(1),
    "median_int": lambda lib, x: x.long().median(0, keepdim=True),
    "nanmedian": lambda lib, x: x.nanmedian(-1),
    "clone": lambda lib, x: x.clone(),
    "zeros_like": lambda lib, x: lib.zeros_like(x),
    "deepcopy": lambda lib, x: copy.deepcopy(x),
}


def _layouts(lib, kind, case):
    out = _CASES[case](lib, _input(lib, kind))
    return [
        (tuple(t.shape), t.stride(), t.storage_offset(), t.is_contiguous())
        for t in (out if isinstance(out, tuple) else (out,))
    ]


@pytest.mark.parametrize("kind", ["contiguous", "channels_last", "transposed", "sliced"])
def test_result_layouts_as_pytorch(kind):
    """Strides, storage offsets and contiguity of 23 ops' results over 4 layouts."""
    for case in _CASES:
        if case == "deepcopy" and kind == "sliced":
            continue  # (PyTorch's deepcopy of a view copies its whole storage: minigrad's, not)
        assert _layouts(minigrad, kind, case) == _layouts(torch, kind, case), case


@pytest.mark.parametrize("kind", ["size1_cl", "t31", "t2"])
def test_size1_and_transposed_layouts_as_pytorch(kind):
    cases = ["add_number", "mul_number", "div_number", "sub_0d", "where", "sort", "argsort"]
    cases += ["clone", "zeros_like", "deepcopy"]
    if kind != "t31":
        cases += ["topk", "median"]
    for case in cases:
        assert _layouts(minigrad, kind, case) == _layouts(torch, kind, case), case


def test_t31_plus_one_keeps_the_size1_stride():
    x = minigrad.arange(3.0).reshape(1, 3).t()
    assert (x + 1).stride() == (1, 3)
    assert (x + x).stride() == (1, 1)  # same-shape tensors: TensorIterator's fast path


@pytest.mark.parametrize("attribute", ["detach", "data"])
def test_detached_view_keeps_storage_offset(attribute):
    for lib in (minigrad, torch):
        x = lib.arange(20.0).reshape(4, 5)
        view = x[1:, 2:]
        out = view.detach() if attribute == "detach" else view.data
        assert out.storage_offset() == 7 and out.stride() == (5, 1)
        assert not out._is_view()
        assert out.untyped_storage().nbytes() == 80
        out.add_(1)  # shares memory with x
        assert x[1, 2].item() == 8.0


# -- nested tensors: PyTorch's prototype warning -------------------------------------------------

_PROTOTYPE = "The PyTorch API of nested tensors is in prototype stage"
_MAKERS = {
    "nested_tensor": (True, lambda nt, a, b: nt.nested_tensor([a, b])),
    "nested_tensor_strided": (
        True,
        lambda nt, a, b: nt.nested_tensor([a, b], layout=strided_of(nt)),
    ),
    "as_nested_tensor_list": (True, lambda nt, a, b: nt.as_nested_tensor([a, b])),
    "as_nested_tensor_dense": (False, lambda nt, a, b: nt.as_nested_tensor(a.repeat(2, 1, 1))),
    "jagged": (False, lambda nt, a, b: nt.nested_tensor([a, b], layout=jagged_of(nt))),
}


def strided_of(nt):
    return torch.strided if nt is torch.nested else minigrad.strided


def jagged_of(nt):
    return torch.jagged if nt is torch.nested else minigrad.jagged


@pytest.fixture
def warn_always():
    """Once-per-process warnings shown every time (PyTorch's set_warn_always), restored after."""
    before = (minigrad.is_warn_always_enabled(), torch.is_warn_always_enabled())
    minigrad.set_warn_always(True)
    torch.set_warn_always(True)
    yield
    minigrad.set_warn_always(before[0])
    torch.set_warn_always(before[1])


@pytest.mark.parametrize("maker", sorted(_MAKERS))
def test_nested_prototype_warning_as_pytorch(maker, warn_always):
    warns, make = _MAKERS[maker]
    # (PyTorch's first jagged tensor imports its compile stack, ~6 s: checked by hand, silent)
    for lib in (minigrad,) if maker == "jagged" else (minigrad, torch):
        a, b = lib.ones(2, 3), lib.ones(4, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            make(lib.nested, a, b)
        said = [w for w in caught if _PROTOTYPE in str(w.message)]
        assert len(said) == int(warns), (lib.__name__, maker)
        if said:
            assert said[0].category is UserWarning
            if lib is minigrad:
                assert said[0].filename == __file__  # (warn_user: the user's line)


def test_nested_prototype_warning_once_a_process():
    from minigrad import _warnings

    had = "nested tensors prototype" in _warnings._said_once
    _warnings._said_once.discard("nested tensors prototype")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                minigrad.nested.nested_tensor([minigrad.ones(2), minigrad.ones(3)]) + 1
        assert sum(_PROTOTYPE in str(w.message) for w in caught) == 1
    finally:
        if not had:
            _warnings._said_once.discard("nested tensors prototype")


# -- jit.script of a function --------------------------------------------------------------------


def _gate(x, scale: float = 2.0, shift: int = 1, bias: torch.Tensor | None = None) -> torch.Tensor:
    """A scripted function's docstring."""
    return x.relu() * scale + shift


def _branchy(x):
    if x.sum() > 0:
        return x
    return -x


def test_scripted_function_schema_and_calls_as_pytorch():
    ours, theirs = minigrad.jit.script(_gate), torch.jit.script(_gate)
    assert isinstance(ours, minigrad.jit.ScriptFunction)
    assert str(ours.schema) == str(theirs.schema)
    assert [a.name for a in ours.schema.arguments] == [a.name for a in theirs.schema.arguments]
    assert ours.name == theirs.name and ours.qualified_name == theirs.qualified_name
    x = np.linspace(-1, 1, 5)
    got = ours(minigrad.tensor(x), 3.0)
    assert np.array_equal(got.numpy(), theirs(torch.tensor(x), 3.0).numpy())
    assert ours.__doc__ == _gate.__doc__ and minigrad.jit.script(ours) is ours


def test_scripted_function_graph_code_and_save(tmp_path):
    scripted = minigrad.jit.script(_gate)
    assert "relu = x.relu()" in scripted.code
    assert [n.op for n in scripted.graph.nodes].count("placeholder") == 4
    path = tmp_path / "gate.pt"
    minigrad.jit.save(scripted, path)
    loaded = minigrad.jit.load(path)
    assert type(loaded).__name__ == "RecursiveScriptModule"
    assert loaded.original_name == "PlaceholderModule"  # as PyTorch's loaded function
    x = minigrad.linspace(-1, 1, 5, dtype=minigrad.float64)
    assert minigrad.equal(loaded(x, 0.5, 2, None), _gate(x, 0.5, 2))


def test_scripted_function_refusals():
    scripted = minigrad.jit.script(_branchy)
    assert minigrad.equal(scripted(-minigrad.ones(2)), minigrad.ones(2))  # runs eagerly
    with pytest.raises(NotImplementedError, match="_branchy.code: minigrad has no TorchScript"):
        _ = scripted.code
    with pytest.raises(NotImplementedError, match="_branchy.save: .*fx.symbolic_trace"):
        minigrad.jit.save(scripted, io.BytesIO())
    with pytest.raises(NotImplementedError, match="annotate the function's return"):
        _ = scripted.schema

    def mutable(x, sizes: list[int] = [1]):  # noqa: B006 - what is refused
        return x

    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match="Mutable default parameters are not supported"):
            lib.jit.script(mutable)


def test_scripted_function_pickles_by_reference_and_binds():
    scripted = minigrad.jit.script(_gate)
    globals()["_scripted_gate"] = scripted
    scripted.__qualname__ = "_scripted_gate"
    try:
        assert pickle.loads(pickle.dumps(scripted)) is scripted
    finally:
        del globals()["_scripted_gate"]

    class Holder:
        gate = minigrad.jit.script(lambda self, x: x + 1)

    assert Holder().gate(minigrad.ones(1)).item() == 2.0


# -- quantized sigmoid and tanh ------------------------------------------------------------------

_QDTYPES = {
    "quint8": (np.arange(256), "uint8", (0, 77, 255)),
    "qint8": (np.arange(-128, 128), "int8", (-128, 0, 100)),
}


def _quantized_results(lib, qdtype, scale, zero_point):
    ints, storage, _ = _QDTYPES[qdtype]
    x = lib._make_per_tensor_quantized_tensor(
        lib.tensor(ints, dtype=getattr(lib, storage)), scale, zero_point
    )
    out = []
    for y in (lib.sigmoid(x), x.tanh(), lib.nn.Sigmoid()(x), lib.nn.functional.tanh(x)):
        out.append(
            (y.int_repr().numpy().tolist(), y.q_scale(), y.q_zero_point(), str(y.dtype)[-5:])
        )
    return out


@pytest.mark.parametrize("qdtype", sorted(_QDTYPES))
def test_quantized_sigmoid_tanh_integers_as_pytorch(qdtype):
    """Every value of the dtype on 12 grids: the integers and fixed output grids of PyTorch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's deprecation of quantized tensors)
        for scale in (0.003, 0.0375, 0.123, 1.0):
            for zero_point in _QDTYPES[qdtype][2]:
                ours = _quantized_results(minigrad, qdtype, scale, zero_point)
                assert ours == _quantized_results(torch, qdtype, scale, zero_point)
    grids = {"quint8": ((2**-8, 0), (2**-7, 128)), "qint8": ((2**-8, -128), (2**-7, 0))}
    assert [r[1:3] for r in ours[:2]] == list(grids[qdtype])


def test_quantized_sigmoid_module_and_refusals():
    x = np.linspace(-5, 5, 11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [
            lib.ao.nn.quantized.Sigmoid(0.01, 10)(
                lib.quantize_per_tensor(lib.tensor(x, dtype=lib.float32), 0.05, 128, lib.quint8)
            )  # fmt: skip
            for lib in (minigrad, torch)
        ]
    assert got[0].int_repr().tolist() == got[1].int_repr().tolist()
    assert (got[0].q_scale(), got[0].q_zero_point()) == (0.01, 10)
    q = minigrad.quantize_per_tensor(
        minigrad.tensor(x, dtype=minigrad.float32), 0.05, 128, minigrad.quint8
    )
    with pytest.raises(NotImplementedError, match="another quantization grid"):
        q.sigmoid_()
    assert q.relu_().q_scale() == 0.05 and q.int_repr().min().item() == 128
    channels = minigrad.quantize_per_channel(
        minigrad.ones(2, 3),
        minigrad.tensor([0.1, 0.2]),
        minigrad.tensor([0, 0]),
        0,
        minigrad.quint8,
    )
    with pytest.raises(RuntimeError, match="kPerTensorAffine"):
        minigrad.tanh(channels)
    with pytest.raises(NotImplementedError, match="Exp: minigrad does not run this op"):
        minigrad.exp(q)
