"""Regression tests for what the fourteenth program round (official tutorials and recipes,
popular repositories' training loops) found different from PyTorch."""

import pytest

import minigrad


def test_reductions_take_numpys_keepdims_alias():
    """makemore writes ``P.sum(1, keepdims=True)``: PyTorch's argument parser takes NumPy's
    ``keepdims`` for ``keepdim`` (as it takes ``axis`` for ``dim``)."""
    x = minigrad.arange(6.0).reshape(2, 3)
    assert x.sum(1, keepdims=True).shape == (2, 1)
    assert minigrad.mean(x, axis=0, keepdims=True).tolist() == [[1.5, 2.5, 3.5]]
    assert x.max(1, keepdims=True).values.shape == (2, 1)
    assert x.std(0, keepdims=True).shape == (1, 3)
    with pytest.raises(TypeError, match="'keepdim' and its alias 'keepdims'"):
        x.sum(1, keepdim=True, keepdims=True)


@pytest.mark.parametrize(
    ("call", "shape"),
    [
        (lambda x: x.median(1, keepdims=True).values, (2, 1)),
        (lambda x: x.nanmedian(axis=1, keepdims=True).values, (2, 1)),
        (lambda x: x.nansum(1, keepdims=True), (2, 1)),
        (lambda x: x.nanmean(axis=1, keepdims=True), (2, 1)),
        (lambda x: minigrad.var_mean(x, 1, keepdims=True)[0], (2, 1)),
        (lambda x: minigrad.std_mean(x, axis=1, keepdims=True)[1], (2, 1)),
        (lambda x: x.quantile(0.5, dim=1, keepdims=True), (2, 1)),
        (lambda x: x.mode(1, keepdims=True).values, (2, 1)),
        (lambda x: x.kthvalue(1, 1, keepdims=True).values, (2, 1)),
        (lambda x: minigrad.aminmax(x, dim=1, keepdims=True).min, (2, 1)),
        (lambda x: x.count_nonzero(axis=1), (2,)),
        (lambda x: x.cummax(axis=1).values, (2, 3)),
        (lambda x: x.cumprod(axis=1), (2, 3)),
        (lambda x: x.logcumsumexp(axis=1), (2, 3)),
        (lambda x: x.sort(axis=1).values, (2, 3)),
        (lambda x: x.argsort(axis=1), (2, 3)),
        (lambda x: minigrad.linalg.norm(x, dim=1, keepdims=True), (2, 1)),
    ],
)
def test_statistics_sorts_and_scans_take_numpys_aliases(call, shape):
    """PyTorch's argument parser takes ``axis``/``keepdims`` for every C++-bound function with
    ``dim``/``keepdim``, not only the plain reductions."""
    assert call(minigrad.arange(6.0).reshape(2, 3)).shape == shape


def test_meta_convolution_of_any_size_costs_nothing():
    """The shapes recipe convolves a 2**10 x 3 x 2**16 x 2**16 meta batch: the result's shape
    comes from the geometry, not from running im2col on stand-in values (192 GiB)."""
    with minigrad.device("meta"):
        conv = minigrad.nn.Conv2d(3, 5, 2, stride=(1, 2), padding=1)
        out = conv(minigrad.rand(2**10, 3, 2**16, 2**16))
    assert out.shape == (1024, 5, 65537, 32769) and out.is_meta


def _dropout_warnings(fn, shape):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        minigrad.manual_seed(0)
        out = fn(minigrad.ones(shape), 0.5)
    return out, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    ("name", "shape", "warned", "mask_shape"),
    [
        ("dropout2d", (6, 10), "Received a 2-D input to dropout2d", (6, 10)),
        ("dropout2d", (2, 3, 4, 5, 6), "Received a 5-D input to dropout2d", (2, 3, 1, 1, 1)),
        ("dropout3d", (6, 10), "Received a 2-D input to dropout3d", (6, 1)),
        ("dropout3d", (2, 3, 4), "Received a 3-D input to dropout3d", (2, 1, 1)),
        ("dropout3d", (5,), "Received a 1-D input to dropout3d", (5,)),
    ],
)
def test_channel_dropout_of_other_ranks_warns_and_drops_as_pytorch(name, shape, warned, mask_shape):
    """The "Defining a Neural Network" recipe feeds a flattened (N, C) batch to Dropout2d:
    PyTorch warns that the rank is deprecated and applies its feature dropout (one draw per
    (dim 0, dim 1) pair; dropout3d adds a batch of one first) instead of raising."""
    fn = getattr(minigrad.nn.functional, name)
    out, messages = _dropout_warnings(fn, shape)
    assert any(warned in m and "please use dropout instead" in m for m in messages)
    flat = out.reshape(*mask_shape, -1)
    assert ((flat == 0).all(-1) | (flat == 2).all(-1)).all()  # constant over the shared dims
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn.functional, name)(torch.ones(shape), 0.5)
    assert out.tolist() == theirs.tolist()  # the same draws


def test_channel_dropout_rank_errors_in_pytorchs_words():
    F = minigrad.nn.functional
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D"):
        F.dropout1d(minigrad.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.dropout2d(minigrad.ones(5))


def test_reflected_add_and_mul_record_the_tensor_first():
    """``2 * b`` is ``b.mul(2)`` in PyTorch: the node's first edge is ``b``'s, which the
    autograd tutorial reads as ``c.grad_fn.next_functions[0][0]``."""
    b = minigrad.ones(3, requires_grad=True).sin()
    for y in (2 * b, 2.5 + b):
        (first, _), (second, _) = y.grad_fn.next_functions
        assert first.name() == "SinBackward0" and second is None
    assert (2 * b).tolist() == (b * 2).tolist() and (1 + b).tolist() == (b + 1).tolist()


def test_accumulate_grad_name_is_pytorchs():
    """``node.name()`` of a leaf's node is PyTorch's C++ name; its repr keeps the class name."""
    w = minigrad.ones(2, requires_grad=True)
    (node, _), _ = (w * 2).grad_fn.next_functions
    assert node.name() == "torch::autograd::AccumulateGrad"
    assert repr(node).startswith("<AccumulateGrad object at 0x")


def test_script_code_of_a_value_dependent_forward_names_what_is_missing():
    """The TorchScript tutorial prints ``scripted_gate.code``: minigrad's code comes from
    fx.symbolic_trace, which cannot record ``if x.sum() > 0``; it says so instead of leaking
    fx's TraceError."""

    class Gate(minigrad.nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    gate = minigrad.jit.script(Gate())
    with pytest.raises(NotImplementedError, match="Gate.code: minigrad has no TorchScript"):
        print(gate.code)
    with pytest.raises(NotImplementedError, match="Gate.graph"):
        print(gate.graph)
    assert "def forward" in minigrad.jit.script(minigrad.nn.Linear(2, 2)).code


def test_meta_results_are_recorded_in_the_graph():
    """The shapes recipe prints a meta convolution's output: PyTorch records autograd graphs
    on meta tensors (``grad_fn=<ConvolutionBackward0>``, ``requires_grad``)."""
    with minigrad.device("meta"):
        conv = minigrad.nn.Conv2d(3, 5, 2)
    out = conv(minigrad.rand(2, 3, 10, 10, device="meta"))
    assert (
        repr(out) == "tensor(..., device='meta', size=(2, 5, 9, 9), grad_fn=<ConvolutionBackward0>)"
    )
    assert out.requires_grad and out.grad_fn.next_functions[1][0].variable is conv.weight
    with minigrad.no_grad():
        assert conv(minigrad.rand(2, 3, 10, 10, device="meta")).grad_fn is None
    with pytest.raises(
        NotImplementedError, match="SumBackward0: minigrad cannot run this backward"
    ):
        out.sum().backward()


def test_setting_data_of_another_dtype_gives_the_leaf_a_new_node():
    """As PyTorch's ``set_data``: after ``p.data = <other dtype or device>`` the leaf's next
    graph gets a new AccumulateGrad node, not the one checked against the old type."""
    p = minigrad.nn.Parameter(minigrad.ones(3))
    (p * 2).sum()  # a graph (dropped) whose node checks float32 gradients
    p.data = p.data.double()
    (p * 2).sum().backward()
    assert p.grad.dtype == minigrad.float64 and p.grad.tolist() == [2.0, 2.0, 2.0]
