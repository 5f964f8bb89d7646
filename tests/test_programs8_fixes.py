"""Focused checks against PyTorch of what the eighth round of programs
(``tests/test_programs8.py``) found missing or wrong: ``overrides.resolve_name``,
``backends.quantized.engine``, ``sparse.mm`` with a dense first operand, exact ``uint64``
literals beyond int64, and the dynamically quantized LSTM of ``quantize_dynamic``."""

import io
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad.overrides import resolve_name

torch = pytest.importorskip("torch")


def test_resolve_name_matches_pytorchs_names():
    from torch.overrides import resolve_name as theirs

    pairs = [
        (minigrad.add, torch.add),
        (minigrad.Tensor.add, torch.Tensor.add),
        (F.linear, torch.nn.functional.linear),
        (minigrad.Tensor.T.__get__, torch.Tensor.T.__get__),
    ]
    for ours, ref in pairs:
        assert resolve_name(ours).replace("minigrad", "torch", 1) == theirs(ref)
    if minigrad.Tensor.__add__ is minigrad.Tensor.add:  # plain methods: one function here
        assert resolve_name(minigrad.Tensor.__add__) == "minigrad.Tensor.add"
    with minigrad.overrides.TorchFunctionMode():  # Tensor's dispatching forms: one each
        assert resolve_name(minigrad.Tensor.__add__) == "minigrad.Tensor.__add__"  # as PyTorch
    assert resolve_name(lambda x: x) is None and theirs(lambda x: x) is None


def test_backends_quantized_engine():
    q = minigrad.backends.quantized
    assert sorted(q.supported_engines) == sorted(torch.backends.quantized.supported_engines)
    assert q.engine == "x86"
    q.engine = "fbgemm"
    assert q.engine == "fbgemm"
    q.engine = "x86"
    with pytest.raises(RuntimeError, match="quantized engine"):
        q.engine = "tpu"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("layout", ["dense", "coo", "csr"])
def test_sparse_mm_with_dense_first_operand(layout):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((3, 2))
    b = (b * (rng.random((3, 2)) > 0.4)).astype(np.float32)

    def run(lib):
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b)
        y = {"dense": y, "coo": y.to_sparse(), "csr": y.to_sparse_csr()}[layout]
        out = lib.sparse.mm(x, y)
        out.sum().backward()
        return (
            out.to_dense().detach().numpy() if out.layout != lib.strided else out.detach().numpy(),
            x.grad.numpy(),
        )

    for ours, ref in zip(run(minigrad), run(torch)):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_uint64_list_beyond_int64_is_exact():
    for data in ([2**63 + 5, 11], [[2**64 - 1], [3]], [7, 2**63]):
        ours = minigrad.tensor(data, dtype=minigrad.uint64).tolist()
        assert ours == torch.tensor(data, dtype=torch.uint64).tolist() == data


def _lstm_pair(bidirectional, batch_first):
    ref = torch.nn.LSTM(3, 5, 2, bidirectional=bidirectional, batch_first=batch_first)
    ours = minigrad.nn.LSTM(3, 5, 2, bidirectional=bidirectional, batch_first=batch_first)
    ours.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_q = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(ref), {torch.nn.LSTM})
    ours_q = minigrad.ao.quantization.quantize_dynamic(
        minigrad.nn.Sequential(ours), {minigrad.nn.LSTM}
    )
    return ours_q[0], ref_q[0]


@pytest.mark.parametrize("bidirectional,batch_first", [(False, False), (True, True)])
def test_dynamic_quantized_lstm_matches_pytorch(bidirectional, batch_first):
    ours, ref = _lstm_pair(bidirectional, batch_first)
    assert ours._get_name() == ref._get_name() == "DynamicQuantizedLSTM"
    x = np.random.default_rng(1).standard_normal((6, 2, 3)).astype(np.float32)
    out, (h, c) = ours(minigrad.tensor(x))
    ref_out, (ref_h, ref_c) = ref(torch.from_numpy(x))
    for a, b in ((out, ref_out), (h, ref_h), (c, ref_c)):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    for name, w in ours.get_weight().items():
        assert w.q_scale() == pytest.approx(ref.get_weight()[name].q_scale(), rel=1e-6)


def test_dynamic_quantized_lstm_state_dict_round_trip():
    ours, _ = _lstm_pair(False, False)
    buffer = io.BytesIO()
    minigrad.save(ours.state_dict(), buffer)  # the tutorial's print_size_of_model
    buffer.seek(0)
    fresh, _ = _lstm_pair(False, False)  # other random weights
    x = minigrad.randn(4, 2, 3)
    assert not minigrad.equal(fresh(x)[0], ours(x)[0])
    fresh.load_state_dict(minigrad.load(buffer))
    assert minigrad.equal(fresh(x)[0], ours(x)[0])


EINSUM_CASES = [
    ("ij,jk->ik", [(4, 8), (8, 3)]),
    ("ij,ij->ij", [(4, 8), (4, 8)]),
    ("ij,ij->", [(4, 8), (4, 8)]),
    ("ijx,jk->ik", [(4, 8, 3), (8, 3)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 5, 4), (2, 3, 6, 4)]),
    ("ij,kl->ijkl", [(2, 3), (4, 5)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 6)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES)
def test_flop_counter_counts_einsum_as_pytorch(equation, shapes):
    from torch.utils.flop_counter import FlopCounterMode as Theirs

    from minigrad.utils.flop_counter import FlopCounterMode as Ours

    def count(lib, mode):
        operands = [lib.ones(*s, requires_grad=i != 1) for i, s in enumerate(shapes)]
        with mode(display=False) as forward:
            lib.einsum(equation, *operands)
        with mode(display=False) as both:
            lib.einsum(equation, *operands).sum().backward()
        return forward.get_total_flops(), both.get_total_flops()

    assert count(minigrad, Ours) == count(torch, Theirs)


def test_flop_counter_einsum_with_ellipsis():
    from minigrad.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        minigrad.einsum("...qd,...kd->...qk", minigrad.ones(2, 3, 5, 4), minigrad.ones(3, 6, 4))
    assert counter.get_total_flops() == 2 * 2 * 3 * 5 * 6 * 4  # as PyTorch counts it


@pytest.mark.parametrize(
    "make", ["Linear(3, 2)", "Conv2d(1, 2, 3)", "Conv1d(2, 2, 1)", "LayerNorm(3)"]
)
def test_fx_traces_a_layer_as_the_root(make):
    """PyTorch traces these layers themselves (their forward has no shape checks in Python)."""
    ref = eval(f"torch.nn.{make}")
    ours = eval(f"minigrad.nn.{make}")
    ours.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    )
    ref_gm, ours_gm = torch.fx.symbolic_trace(ref), minigrad.fx.symbolic_trace(ours)
    assert [n.op for n in ours_gm.graph.nodes] == [n.op for n in ref_gm.graph.nodes]
    shape = {"Linear": (2, 3), "Conv2d": (1, 1, 5, 5), "Conv1d": (1, 2, 4), "LayerNorm": (2, 3)}
    x = np.random.default_rng(2).standard_normal(shape[make.split("(")[0]]).astype(np.float32)
    np.testing.assert_allclose(
        ours_gm(minigrad.tensor(x)).detach().numpy(),
        ref_gm(torch.from_numpy(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    with pytest.raises(RuntimeError):  # the eager shape checks stay
        ours(minigrad.ones(2, 7, 7, 7))


def test_modes_see_the_convolution_of_conv_layers():
    from minigrad.overrides import TorchFunctionMode

    class Names(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    layers = [minigrad.nn.Conv2d(1, 1, 3), minigrad.nn.ConvTranspose1d(1, 1, 2)]
    x, y = minigrad.ones(1, 1, 4, 4), minigrad.ones(1, 1, 3)
    with Names() as mode:
        layers[0](x)
        layers[1](y)
    assert mode.names == ["conv2d", "conv_transpose1d"]  # as PyTorch's mode sees them


def test_embedding_of_a_jagged_nested_tensor():
    ids = [[1, 2], [3], [0, 4, 4]]
    weight = np.arange(10.0, dtype=np.float32).reshape(5, 2)

    def run(lib):
        nt = lib.nested.nested_tensor([lib.tensor(i) for i in ids], layout=lib.jagged)
        emb = lib.nn.Embedding(5, 2, _weight=lib.tensor(weight))
        out = emb(nt)
        out.values().pow(2).sum().backward()
        return out.values().detach().numpy(), out.offsets().numpy(), emb.weight.grad.numpy()

    for ours, ref in zip(run(minigrad), run(torch)):
        np.testing.assert_allclose(ours, ref)


LAYERS = [
    ("Softmax(-1)", (2, 3)),
    ("LogSoftmax(1)", (2, 3)),
    ("Softmin(1)", (2, 3)),
    ("Hardshrink()", (2, 3)),
    ("MaxPool1d(2)", (1, 1, 4)),
    ("MaxPool2d(2)", (1, 1, 4, 4)),
    ("MaxPool3d(2)", (1, 1, 2, 4, 4)),
    ("AvgPool1d(2)", (1, 1, 4)),
    ("AvgPool2d(2)", (1, 1, 4, 4)),
    ("AdaptiveAvgPool2d(1)", (1, 1, 4, 4)),
    ("AdaptiveMaxPool1d(2)", (1, 1, 4)),
    ("LPPool2d(2, 2)", (1, 1, 4, 4)),
    ("ChannelShuffle(2)", (1, 4, 2, 2)),
    ("Conv2d(1, 1, 3, padding=1, padding_mode='circular')", (1, 1, 4, 4)),
]


@pytest.mark.parametrize("make,shape", LAYERS)
def test_modes_see_the_functional_call_of_layers(make, shape):
    def seen(lib):
        class Names(lib.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                names.append(func.__name__)
                return func(*args, **(kwargs or {}))

        layer, x, names = eval(f"lib.nn.{make}"), lib.ones(*shape), []
        with Names():
            layer(x)
        return [n for n in names if not n.startswith("__") and n not in ("dim", "size")]

    assert seen(minigrad) == seen(torch)


def _masked_sparse_results(lib):
    from_data = lib.tensor([[0.0, 1.5, 0.0, -2.0], [3.0, 0.0, 0.5, 0.0]])
    keep = lib.tensor([[False, True, False, True], [True, False, True, False]])
    coo = lib.masked.masked_tensor(from_data.to_sparse_coo(), keep.to_sparse_coo())
    csr = lib.masked.masked_tensor(from_data.to_sparse_csr(), keep.to_sparse_csr())
    dense = lib.masked.masked_tensor(from_data, keep)

    def dense_of(mt):
        mt = mt.to_dense()
        return mt.get_data().tolist(), mt.get_mask().tolist()

    return {
        "flags": [coo.is_sparse, dense.is_sparse, str(coo.layout)[-10:], str(csr.layout)[-10:]],
        "coo_sum": coo.sum().get_data().item(),
        "coo_add": dense_of(coo + coo),
        "coo_abs": dense_of(coo.abs()),
        "csr_mul": dense_of(csr * 2),
        "csr_neg": dense_of(csr.neg()),
        "to_coo": dense_of(dense.to_sparse_coo()),
        "to_csr": dense_of(dense.to_sparse_csr()),
        "to_dense": dense_of(coo),
    }


def test_sparse_masked_tensors_as_the_sparsity_tutorial():
    ours, theirs = _masked_sparse_results(minigrad), _masked_sparse_results(torch)
    assert ours == theirs


def _scaled_mm_results(lib):
    rng = np.random.default_rng(3)
    a = lib.tensor(rng.standard_normal((16, 32)).astype(np.float32)).to(lib.float8_e4m3fn)
    b = lib.tensor(rng.standard_normal((16, 32)).astype(np.float32)).to(lib.float8_e5m2).t()
    sa, sb = lib.tensor(0.5), lib.tensor(2.5)
    rows, cols = lib.full((16, 1), 0.25), lib.linspace(0.5, 2.0, 16).reshape(1, 16)
    bias = lib.linspace(-1, 1, 16).to(lib.bfloat16)
    return [
        lib._scaled_mm(a, b, scale_a=sa, scale_b=sb, out_dtype=lib.float32).tolist(),
        lib._scaled_mm(a, b, scale_a=sa, scale_b=sb).float().tolist(),
        lib._scaled_mm(a, b, scale_a=sa, scale_b=sb, bias=bias, out_dtype=lib.bfloat16)
        .float()
        .tolist(),
        lib._scaled_mm(a, b, scale_a=rows, scale_b=cols, out_dtype=lib.float32).tolist(),
    ]


def test_scaled_mm_matches_pytorch():
    ours, theirs = _scaled_mm_results(minigrad), _scaled_mm_results(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-6, atol=1e-6)
    f8 = minigrad.ones(16, 16).to(minigrad.float8_e4m3fn)
    with pytest.raises(RuntimeError, match="float8"):
        minigrad._scaled_mm(
            f8.float(), f8, scale_a=minigrad.tensor(1.0), scale_b=minigrad.tensor(1.0)
        )
    with pytest.raises(RuntimeError, match="scaling"):
        minigrad._scaled_mm(f8, f8, scale_a=minigrad.ones(2), scale_b=minigrad.tensor(1.0))


def test_register_dataclass_field_names_as_pytorch():
    import dataclasses

    def run(pt):
        @dataclasses.dataclass
        class P:
            x: int
            y: int = 3

        @dataclasses.dataclass
        class S:
            x: int
            y: int = dataclasses.field(default=0, init=False)

        @dataclasses.dataclass
        class Q:
            x: int
            y: int

        pt.register_dataclass(P, field_names=["x"], drop_field_names=["y"])
        pt.register_dataclass(S)
        leaves, spec = pt.tree_flatten(P(1, 5))
        with pytest.raises(ValueError, match="field_names"):
            pt.register_dataclass(Q, field_names=["x"])
        return leaves, repr(pt.tree_unflatten([7], spec)), pt.tree_leaves(S(4))

    import torch.utils._pytree as theirs

    import minigrad.utils._pytree as ours

    a, b = run(ours), run(theirs)
    assert a[0] == b[0] == [1] and a[2] == b[2] == [4]
    assert a[1].split(".")[-1] == b[1].split(".")[-1]  # P(x=7, y=3)
