"""Focused checks for the differences from PyTorch that the sixteenth round of programs
(tests/test_programs16a.py) found, each compared with PyTorch's own result or message."""

import pytest

import minigrad


def _message(fn, lib):
    with pytest.raises(RuntimeError) as info:
        fn(lib)
    return str(info.value)


@pytest.mark.parametrize(
    "shapes",
    [((1, 3, 1), (3, 1, 7)), ((3, 1), (1, 4)), ((2,), (3,)), ((2, 1), (3, 4))],
)
def test_inplace_broadcast_error_names_the_broadcast_shape(shapes):
    torch = pytest.importorskip("torch")

    def add_(lib):
        lib.ones(*shapes[0]).add_(lib.ones(*shapes[1]))

    assert _message(add_, torch) in _message(add_, minigrad)


@pytest.mark.parametrize("shape", [(3, 1, 1), [3, 1, 1]])
def test_broadcast_shapes_error_shows_the_argument_as_given(shape):
    torch = pytest.importorskip("torch")

    def call(lib):
        given = lib.Size(shape) if isinstance(shape, tuple) else shape
        lib.broadcast_shapes((5, 2, 4, 1), given)

    assert _message(call, minigrad) == _message(call, torch).replace("torch.Size", "minigrad.Size")


@pytest.mark.parametrize("requires_grad", [False, True])
def test_inplace_integer_narrowing_wraps_as_pytorch(requires_grad):
    """uint8 *= int32 computes in int32 and wraps into uint8 (NumPy's same_kind refuses it);
    only a change of category (float into int) is an error, with PyTorch's dtype names."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        a = lib.tensor([200, 3], dtype=lib.uint8)
        w = lib.ones(2, requires_grad=requires_grad)
        a *= lib.tensor([2, -1], dtype=lib.int32)
        b = lib.tensor([1, 2], dtype=lib.int32)
        with pytest.raises(RuntimeError) as info:
            b *= w * 1.5
        results.append((a.tolist(), str(a.dtype).split(".")[1], str(info.value).split(": ")[-1]))
    assert results[0] == results[1]


def test_out_cast_error_uses_pytorch_dtype_names():
    torch = pytest.importorskip("torch")

    def add(lib):
        lib.add(lib.tensor([1.5]), lib.tensor([1.0]), out=lib.empty(1, dtype=lib.long))

    assert _message(add, minigrad) == "add(): " + _message(add, torch)


def test_tuple_plus_size_is_a_size():
    torch = pytest.importorskip("torch")
    ours, theirs = (1,) + minigrad.Size([2, 3]), (1,) + torch.Size([2, 3])
    assert type(ours) is minigrad.Size and type(theirs) is torch.Size
    assert list(ours) == list(theirs) == [1, 2, 3]
    with pytest.raises(TypeError):
        [1] + minigrad.Size([2])


def test_saved_size_loads_as_a_size(tmp_path):
    path = tmp_path / "size.pt"
    minigrad.save({"shape": minigrad.Size([2, 3]), "plain": (2, 3)}, path)
    back = minigrad.load(path)
    assert type(back["shape"]) is minigrad.Size and back["shape"] == (2, 3)
    assert type(back["plain"]) is tuple


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_cpu_cumsum_accumulates_in_double_as_pytorch(dtype):
    """PyTorch's CPU scan accumulates float32 in double and rounds each partial sum once, so a
    long float32 cumsum ends at 5000.5 where a float32 running sum drifts to 5000.4995."""
    torch = pytest.importorskip("torch")
    np = pytest.importorskip("numpy")
    data = np.random.default_rng(0).random((3, 4001)).astype(dtype)
    if dtype == "complex64":
        data = data + 1j * data[::-1]
    ours = minigrad.tensor(data).cumsum(1).numpy()
    assert np.array_equal(ours, torch.tensor(data).cumsum(1).numpy())
    assert ours.dtype == np.dtype(dtype)
    assert minigrad.linspace(0, 1, 10001).cumsum(0)[-1].item() == 5000.5


@pytest.mark.parametrize("args", [("yes",), (1,), (None,), (True, 1)])
def test_use_deterministic_algorithms_rejects_non_bools_with_typeerror(args):
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (minigrad, torch):
        with pytest.raises(TypeError) as info:
            lib.use_deterministic_algorithms(
                args[0], **({"warn_only": args[1]} if args[1:] else {})
            )
        messages.append(str(info.value))
        assert not lib.are_deterministic_algorithms_enabled()
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(5).scatter_(0, lib.tensor(3), value=1),  # the one-hot of the tutorial
        lambda lib: lib.zeros(5).scatter(0, lib.tensor(3), lib.tensor(7.0)),
        lambda lib: lib.zeros(5).scatter_add(0, lib.tensor(3), lib.tensor(7.0)),
        lambda lib: lib.zeros(5).scatter_add(0, lib.tensor([3]), lib.tensor(7.0)),
        lambda lib: lib.zeros(5).scatter_reduce(0, lib.tensor(3), lib.tensor(7.0), "amax"),
        lambda lib: lib.tensor(2.0).scatter(0, lib.tensor(0), 5.0),
    ],
)
def test_scatter_with_a_zero_dim_index_writes_one_element(call):
    """A 0-dim index counts as a 1-element one: it wrote every element before."""
    torch = pytest.importorskip("torch")
    assert call(minigrad).tolist() == call(torch).tolist()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(2, 3).scatter_(1, lib.tensor(1), 1.0),
        lambda lib: lib.zeros(2, 3).scatter_(1, lib.tensor([1, 0]), 1.0),
        lambda lib: lib.zeros(2, 3).scatter_add(1, lib.tensor([1, 0]), lib.ones(2)),
        lambda lib: lib.zeros(5).scatter(0, lib.tensor([[3]]), 1.0),
    ],
)
def test_scatter_index_of_another_dim_count_raises(call):
    torch = pytest.importorskip("torch")
    assert _message(call, torch) in _message(call, minigrad)


def test_scatter_zero_dim_src_gets_its_gradient():
    src = minigrad.tensor(7.0, requires_grad=True)
    out = minigrad.zeros(5).scatter_add(0, minigrad.tensor(2), src)
    (out * minigrad.arange(5.0)).sum().backward()
    assert src.grad.shape == () and src.grad.item() == 2.0
