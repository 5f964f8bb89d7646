"""Regression tests for what the ninth round of tutorial programs (tests/test_programs9.py)
found missing or wrong in minigrad, one focused test per fix."""

import copy
import io
import pickle

import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.ao.quantization import get_default_qconfig_mapping
from minigrad.ao.quantization.quantize_fx import fuse_fx, prepare_fx
from minigrad.export import Dim, export


class _ConvBnFunctionalRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def test_fuse_fx_eval_model_with_functional_relu():
    model = _ConvBnFunctionalRelu().eval()  # the relu is F.relu, not a module in eval mode
    x = minigrad.randn(2, 1, 5, 5)
    fused = fuse_fx(model)
    assert [type(m).__name__ for _, m in fused.named_children()] == ["ConvReLU2d"]
    assert type(fused).__name__ == "GraphModule"
    assert (fused(x) - model(x)).abs().max().item() < 1e-5


def test_prepare_fx_drops_folded_batch_norm():
    model = _ConvBnFunctionalRelu().eval()
    prepared = prepare_fx(model, get_default_qconfig_mapping("x86"), (minigrad.randn(1, 1, 5, 5),))
    assert not hasattr(prepared, "bn") and "bn.weight" not in prepared.state_dict()
    assert type(prepared).__name__ == "GraphModule" and not prepared.training  # as PyTorch's


class _Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return minigrad.cond(x.sum() > 0, lambda v: self.lin(v).relu(), lambda v: -v, (x,)) * 2


def test_cond_is_traced_with_both_branches():
    model = _Branchy()
    gm = minigrad.fx.symbolic_trace(model)
    assert sum(n.target is minigrad.cond for n in gm.graph.nodes) == 1
    for x in (minigrad.rand(2, 3) + 0.1, -minigrad.rand(2, 3) - 0.1):
        assert (gm(x) - model(x)).abs().max().item() == 0.0
    ep = export(model, (minigrad.rand(2, 3),))
    x = -minigrad.rand(2, 3)
    assert (ep.module()(x) - model(x)).abs().max().item() == 0.0
    assert not hasattr(model, "true_graph_0")  # the user's module is left as it was


def test_cond_branch_reading_an_outer_traced_value_is_refused():
    def f(x, y):
        return minigrad.cond(x.sum() > 0, lambda a: a + y, lambda a: a - y, (x,))

    with pytest.raises(RuntimeError, match="pass every tensor a branch uses in operands"):
        minigrad.fx.symbolic_trace(f)


class _Scale(nn.Module):
    def forward(self, x, y):
        return x * 2 + y


def test_export_guards_static_and_dynamic_dims():
    x, y = minigrad.randn(3, 2), minigrad.randn(3, 2)
    mod = export(_Scale(), (x, y)).module()
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] == 3"):
        mod(minigrad.randn(4, 2), minigrad.randn(4, 2))
    with pytest.raises(AssertionError, match=r"Guard failed: y.size\(\)\[1\] == 2"):
        mod(x, minigrad.randn(3, 1))
    with pytest.raises(ValueError, match="input tree spec"):  # as PyTorch
        mod(x)
    copied = pickle.loads(pickle.dumps(mod))  # the checks are in the graph: copies keep them
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] == 3"):
        copy.deepcopy(copied)(minigrad.randn(4, 2), minigrad.randn(4, 2))
    batch = Dim("batch", min=2, max=6)
    ep = export(_Scale(), (x, y), dynamic_shapes={"x": {0: batch}, "y": (batch, None)})
    assert ep.module()(minigrad.ones(6, 2), minigrad.ones(6, 2)).sum().item() == 36.0
    with pytest.raises(AssertionError, match=r"x.size\(\)\[0\] >= 2"):
        ep.module()(minigrad.ones(1, 2), minigrad.ones(1, 2))
    with pytest.raises(AssertionError, match=r"y.size\(\)\[0\] == x.size\(\)\[0\]"):
        ep.module()(minigrad.ones(2, 2), minigrad.ones(3, 2))
    buffer = io.BytesIO()
    minigrad.export.save(ep, buffer)
    buffer.seek(0)
    loaded = minigrad.export.load(buffer).module()
    with pytest.raises(AssertionError, match=r"x.size\(\)\[0\] <= 6"):
        loaded(minigrad.ones(7, 2), minigrad.ones(7, 2))


def test_matmul_of_4d_strided_nested_tensors():
    # (N, heads, ragged, d) @ (N, heads, d, ragged): the ragged dim has no size to read
    parts = [minigrad.randn(2, n, 3) for n in (4, 2)]
    q = minigrad.nested.nested_tensor(parts)
    scores = minigrad.matmul(q, q.transpose(-2, -1))
    for got, p in zip(scores.unbind(), parts):
        assert (got - p @ p.transpose(-2, -1)).abs().max().item() < 1e-6


def _sparse_masked():
    from minigrad.masked import masked_tensor

    i = [[0, 1, 1], [2, 0, 2]]
    grad = minigrad.sparse_coo_tensor(i, [3.0, 4.0, 5.0], (2, 4))
    mask = (grad.to_dense() != 0).to_sparse()
    full = masked_tensor(minigrad.full((2, 4), 0.5).to_sparse(), mask)
    return masked_tensor(grad, mask), full


def test_sparse_masked_tensor_keeps_the_masks_pattern_and_checks_layouts():
    from minigrad.masked import masked_tensor

    _, full = _sparse_masked()
    assert full.get_data()._nnz() == 3  # the 8 specified values cut to the mask's 3
    with pytest.raises(TypeError, match="data and mask must have the same layout"):
        masked_tensor(minigrad.ones(2, 2).to_sparse(), minigrad.ones(2, 2, dtype=minigrad.bool))


def test_sparse_masked_tensor_binary_ops_and_operators():
    grad, full = _sparse_masked()
    for got, want in (
        (grad.pow(2), [9.0, 16.0, 25.0]),
        (grad / full.sqrt().add(1e-10), [3 / 0.5**0.5, 4 / 0.5**0.5, 5 / 0.5**0.5]),
        (2 - grad, [-1.0, -2.0, -3.0]),
        (grad * full, [1.5, 2.0, 2.5]),
    ):
        assert got.is_sparse_coo() and got.get_data()._nnz() == 3
        assert got.get_data().coalesce().values().tolist() == pytest.approx(want, rel=1e-6)


def test_masked_tensor_layout_queries_as_pytorch():
    from minigrad.masked import masked_tensor

    dense = masked_tensor(minigrad.ones(2, 2), minigrad.eye(2, dtype=minigrad.bool))
    csr = dense.to_sparse_csr()
    assert (dense.is_sparse, dense.is_sparse_coo(), dense.is_sparse_csr()) == (False,) * 3
    assert (csr.is_sparse, csr.is_sparse_coo(), csr.is_sparse_csr()) == (True, False, True)
    assert csr.to_sparse_coo().is_sparse_coo()


def test_graph_appending_tracer_retraces_with_proxies():
    from minigrad.fx.proxy import GraphAppendingTracer

    graph = minigrad.fx.Graph()
    x = graph.placeholder("x")
    out = (minigrad.fx.Proxy(x, GraphAppendingTracer(graph)) > 0) * 3
    graph.output(out.node)
    gm = minigrad.fx.GraphModule(nn.Module(), graph)
    assert gm(minigrad.tensor([-1.0, 2.0])).tolist() == [0.0, 3.0]


@pytest.mark.parametrize("shape", [(9,), (3, 8), (2, 11), (2, 2, 8), (2, 3, 1, 9)])
def test_tensor_print_puts_as_many_elements_on_a_line_as_torch(shape):
    torch = pytest.importorskip("torch")
    # (80 - indent) // (width + 2) elements a line, the indent one more per dim: eight of
    # "-1.2345" on a row of a matrix (NumPy's own wrapping left seven)
    t = torch.arange(float(int(torch.tensor(shape).prod()))).reshape(shape) / 7 - 3
    for theirs in (t, t.long() * 1000, t > 0):
        ours = minigrad.tensor(theirs.numpy())
        assert repr(ours) == repr(theirs)


def test_delete_all_unused_submodules_removes_a_module_also_held_by_a_used_one():
    root = nn.Module()
    root.bn = nn.BatchNorm1d(2)
    root.pair = nn.Sequential(nn.Linear(2, 2), root.bn)  # bn reachable at two paths
    graph = minigrad.fx.Graph()
    x = graph.placeholder("x")
    graph.output(graph.call_module("pair", (x,)))
    gm = minigrad.fx.GraphModule(root, graph)
    gm.bn = root.bn
    gm.delete_all_unused_submodules()
    assert [name for name, _ in gm.named_children()] == ["pair"]
    assert isinstance(gm.pair[1], nn.BatchNorm1d)


class _Pool(nn.Module):
    def forward(self, tokens, mask, *, temperature=1.0):
        h = tokens * mask
        return {"h": h, "pooled": h.sum(1) / temperature}, h.norm()


def test_export_shared_dim_constant_inputs_and_flat_outputs():
    seq = Dim("seq", max=8)
    x, m = minigrad.randn(2, 4), minigrad.ones(2, 4)
    ep = export(
        _Pool(), (x, m), {"temperature": 2.0}, dynamic_shapes={"tokens": {1: seq}, "mask": {1: seq}}
    )
    assert ep.graph_signature.user_inputs == ("tokens", "mask", 2.0)
    assert len(ep.graph_signature.user_outputs) == 3  # dict values, then the norm
    mod = ep.module()
    assert mod(minigrad.ones(2, 6), minigrad.ones(2, 6), temperature=2.0)[0]["pooled"].tolist() == [
        3.0,
        3.0,
    ]
    with pytest.raises(AssertionError, match=r"mask.size\(\)\[1\] == tokens.size\(\)\[1\]"):
        mod(minigrad.ones(2, 6), minigrad.ones(2, 5), temperature=2.0)
    with pytest.raises(AssertionError, match="Guard failed: temperature == 2.0"):
        mod(x, m, temperature=3.0)
    buffer = io.BytesIO()
    minigrad.export.save(ep, buffer)
    buffer.seek(0)
    assert minigrad.export.load(buffer).graph_signature.user_inputs == ("tokens", "mask", 2.0)


def test_export_leaves_batch_norm_statistics_and_the_generator_as_they_were():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5)).train()
    x = minigrad.randn(5, 3)
    state = minigrad.random.default_generator.get_state()
    ep = export(model, (x,))
    assert model[1].num_batches_tracked.item() == 0
    assert model[1].running_mean.abs().sum().item() == 0.0
    after = minigrad.rand(3)
    minigrad.random.default_generator.set_state(state)
    assert minigrad.rand(3).tolist() == after.tolist()  # export drew no random numbers
    ep.module()(x)  # the program's module updates the shared statistics, as PyTorch's
    assert model[1].num_batches_tracked.item() == 1


def test_export_unflatten_keeps_the_module_hierarchy():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.ReLU())
    x = minigrad.ones(1, 2)
    unflat = minigrad.export.unflatten(export(model, (x,)))
    assert type(unflat).__name__ == "UnflattenedModule"
    assert [name for name, _ in unflat.named_modules()] == ["", "0", "0.0", "1"]
    assert (unflat(x) - model(x)).abs().max().item() == 0.0


class _Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head_a, self.head_b = nn.Linear(4, 4), nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x):
        h = self.body(x)
        return self.head_a(h) + self.head_b(h)


def test_qconfig_mapping_module_name_regex_comes_before_object_type():
    from minigrad.ao.quantization import QConfigMapping, default_qconfig
    from minigrad.ao.quantization.quantize_fx import convert_fx

    mapping = (
        QConfigMapping()
        .set_global(default_qconfig)
        .set_object_type(nn.Linear, default_qconfig)
        .set_module_name_regex("head_.*", None)
    )
    assert mapping.qconfig_for("head_b", nn.Linear) is None
    assert mapping.qconfig_for("body", nn.Linear) is default_qconfig
    x = minigrad.randn(3, 4)
    prepared = prepare_fx(_Heads().eval(), mapping, (x,))
    prepared(x)
    quantized = convert_fx(prepared)
    kinds = {name: type(m).__module__ for name, m in quantized.named_children()}
    assert kinds["head_a"] == kinds["head_b"] == "minigrad.nn.modules.linear"  # float
    assert kinds["body"].startswith("minigrad.ao.nn.quantized")


def test_overrides_testing_table_mode_stack_and_dispatch_mode_refusal():
    from minigrad.overrides import (
        TorchFunctionMode,
        _get_current_function_mode_stack,
        enable_reentrant_dispatch,
        get_testing_overrides,
    )
    from minigrad.utils._python_dispatch import TorchDispatchMode

    table = get_testing_overrides()
    assert minigrad.add in table and table[minigrad.add](1, 2, alpha=3) == -1
    assert minigrad.nn.functional.relu in table and minigrad.ones not in table

    class Passing(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    with Passing() as outer, Passing() as inner, enable_reentrant_dispatch():
        assert _get_current_function_mode_stack() == [outer, inner]
    assert _get_current_function_mode_stack() == []
    with pytest.raises(NotImplementedError, match="no __torch_dispatch__"):
        with TorchDispatchMode():
            pass


def test_numeric_suite_compare_weights_outputs_and_sqnr():
    import minigrad.ao.ns._numeric_suite as ns
    from minigrad.ao.ns.fx.utils import compute_normalized_l2_error, compute_sqnr

    x = minigrad.tensor([3.0, 4.0])
    assert compute_sqnr(x, x + minigrad.tensor([0.0, 0.05])).item() == pytest.approx(40.0)
    assert compute_normalized_l2_error(x, x * 1.1).item() == pytest.approx(0.1)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    dynamic = minigrad.ao.quantization.quantize_dynamic(model, {nn.Linear})
    pairs = ns.compare_weights(model.state_dict(), dynamic.state_dict())
    assert sorted(pairs) == ["0._packed_params._packed_params", "2._packed_params._packed_params"]
    pair = pairs["0._packed_params._packed_params"]
    assert pair["quantized"].dtype is minigrad.qint8
    assert pair["float"].tolist() == model[0].weight.tolist()
    data = minigrad.randn(5, 3)
    logs = ns.compare_model_outputs(model, dynamic, data)
    assert sorted(logs) == ["0.stats", "2.stats"]
    assert len(logs["2.stats"]["float"]) == len(logs["2.stats"]["quantized"]) == 1
    assert (logs["2.stats"]["float"][0] - model(data)).abs().max().item() == 0.0
    with pytest.raises(NotImplementedError, match="compare_model_stub"):
        ns.compare_model_stub(model, dynamic, [], data)


def _coo():
    values = minigrad.tensor([2.0, 1.0, 3.0, 4.0, 5.0], requires_grad=True)
    indices = [[0, 0, 1, 2, 2], [1, 3, 0, 2, 3]]
    return values, minigrad.sparse_coo_tensor(indices, values, (3, 4))


def test_sparse_coo_pow_index_select_and_narrow_copy():
    torch = pytest.importorskip("torch")
    values, s = _coo()
    t = torch.sparse_coo_tensor([[0, 0, 1, 2, 2], [1, 3, 0, 2, 3]], values.tolist(), (3, 4))
    assert s.pow(2).is_sparse and s.pow(2).to_dense().tolist() == t.pow(2).to_dense().tolist()
    with pytest.raises(RuntimeError, match="zeroth power"):
        s.pow(0)
    picked = s.index_select(1, minigrad.tensor([3, 3, 0]))
    assert picked.is_sparse and picked.shape == (3, 3)
    want = t.index_select(1, torch.tensor([3, 3, 0])).to_dense().tolist()
    assert picked.to_dense().tolist() == want
    picked.to_dense().sum().backward()  # each value once per time its column is picked
    assert values.grad.tolist() == [0.0, 2.0, 1.0, 0.0, 2.0]
    assert s.narrow_copy(0, 1, 2).to_dense().tolist() == t.narrow_copy(0, 1, 2).to_dense().tolist()
    with pytest.raises(NotImplementedError, match="one sparse dim"):
        s[0, 1]


def test_sparse_spdiags_as_torch():
    torch = pytest.importorskip("torch")
    d = minigrad.arange(1.0, 13.0).reshape(3, 4).requires_grad_()
    ours = minigrad.sparse.spdiags(d, minigrad.tensor([0, -1, 2]), (3, 4))
    theirs = torch.sparse.spdiags(
        torch.arange(1.0, 13.0).reshape(3, 4), torch.tensor([0, -1, 2]), (3, 4)
    )
    assert ours.is_sparse and ours.to_dense().tolist() == theirs.to_dense().tolist()
    csr = minigrad.sparse.spdiags(d[:1], minigrad.tensor([1]), (4, 3), layout=minigrad.sparse_csr)
    assert csr.layout is minigrad.sparse_csr and csr.to_dense()[0, 1].item() == 2.0
    ours.to_dense().sum().backward()
    assert d.grad.sum().item() == ours._nnz()
    with pytest.raises(RuntimeError, match=r"Number of diagonals \(3\) does not match"):
        minigrad.sparse.spdiags(d, minigrad.tensor([1]), (4, 3))


def test_qat_conv_bn_children_in_pytorchs_order():
    torch = pytest.importorskip("torch")
    names = []
    for lib in (minigrad, torch):
        qconfig = lib.ao.quantization.get_default_qat_qconfig("x86")
        conv = lib.ao.nn.intrinsic.qat.ConvBnReLU2d(1, 2, 3, qconfig=qconfig)
        names.append(([n for n, _ in conv.named_children()], list(conv.state_dict())))
    assert names[0] == names[1]


class _Upsample(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)

    def forward(self, x):
        return F.interpolate(self.conv(x), scale_factor=2, mode="bilinear", align_corners=False)


def test_export_save_resolves_functions_named_as_submodules_and_refuses_bare_layers():
    # minigrad.nn.functional.interpolate is a function and a module of that name
    x = minigrad.randn(1, 2, 4, 4)
    model = _Upsample()
    buffer = io.BytesIO()
    minigrad.export.save(export(model, (x,)), buffer)
    buffer.seek(0)
    assert (minigrad.export.load(buffer).module()(x) - model(x)).abs().max().item() == 0.0
    with pytest.raises(NotImplementedError, match="export a Module that holds it"):
        export(nn.LSTM(4, 6, batch_first=True), (minigrad.randn(2, 3, 4),))


def test_masked_reductions_of_fully_masked_rows_are_quiet():
    import warnings

    x = minigrad.randn(2, 3)
    mask = minigrad.tensor([[True, False, False], [False, False, False]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch gives NaN / -inf without a warning
        assert minigrad.masked.mean(x, 1, mask=mask)[1].isnan().item()
        assert minigrad.masked.var(x, 1, mask=mask).isnan().all().item()
        assert minigrad.masked.softmax(x, 1, mask=mask)[1].isnan().all().item()
        assert minigrad.masked.logsumexp(x, 1, mask=mask)[1].item() == float("-inf")
