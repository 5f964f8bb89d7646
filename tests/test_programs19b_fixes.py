"""Focused tests for what the nineteenth round of programs (b) (tests/test_programs19b.py) found
different from PyTorch, each compared with PyTorch itself."""

import pytest

import minigrad


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.tensor([1.5]) << 2,  # NF4 packing on a float tensor by mistake
        lambda t: t.tensor([1.5], dtype=t.float64) >> 2,
        lambda t: t.tensor([1]) << 1.5,  # a Python float promotes to the default dtype
        lambda t: 2 << t.tensor([1.5]),
        lambda t: t.tensor([1.5]) & 2,  # the operators went to NumPy, which raised TypeError
        lambda t: t.tensor([1.5], dtype=t.bfloat16) | 1,
        lambda t: t.tensor([1.5]) ^ 1,
        lambda t: 3 & t.tensor([1.5]),
        lambda t: t.tensor([1 + 1j]) & 1,
        lambda t: t.gcd(t.tensor([1.5]), t.tensor([2.5])),
        lambda t: t.bitwise_not(t.tensor([1.5])),
        lambda t: ~t.tensor([1.5]),  # the operator: a TypeError with its own words
    ],
)
def test_bitwise_on_floats_raises_pytorchs_error(call):
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = _error(minigrad, call), _error(torch, call)
    assert mine == pytorchs and message.startswith(pytorch_message)  # (ours adds a hint)


@pytest.mark.parametrize("op", ["__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__"])
def test_inplace_bitwise_operators_write_through_views(op):
    """``x[:2] &= 1`` changed a new tensor, not ``x`` (Python fell back to ``x = x & 1``)."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        base = lib.tensor([5, 6, 7])
        view = base[:2]
        out = getattr(view, op)(1)
        results.append((base.tolist(), out is view))
    assert results[0] == results[1] and results[0][1]


def test_inplace_bitwise_on_bool_masks():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        mask = lib.tensor([[True, False], [True, True]])
        row = mask[1]
        row &= lib.tensor([False, True])
        mask[0] |= lib.tensor([False, True])
        results.append(mask.tolist())
    assert results[0] == results[1] == [[True, True], [False, True]]


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.polar(t.tensor([1.0], dtype=t.float64), t.tensor([0.5])),  # C++ dtype names
        lambda t: t.complex(t.tensor([1.0]), t.tensor([0.5], dtype=t.float64)),
        lambda t: t.view_as_complex(t.ones(2, 2, dtype=t.int64)),
        lambda t: t.view_as_complex(t.ones(2, 2, dtype=t.bfloat16)),
        lambda t: t.zeros(3).index_copy_(0, t.tensor([0], dtype=t.int32), t.tensor([1.0])),
        lambda t: t.index_copy(t.zeros(3), 0, t.tensor([0.0]), t.tensor([1.0])),  # was IndexError
    ],
)
def test_rope_and_paged_cache_errors(call):
    """view_as_complex (rotary embeddings), polar (their tables), index_copy_ (paged caches)."""
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = _error(minigrad, call), _error(torch, call)
    assert mine == pytorchs and message.startswith(pytorch_message)


def test_view_as_complex_of_half_is_not_implemented():
    """PyTorch gives complex32, which minigrad cannot compute with: refused by name, not with a
    wrong message."""
    with pytest.raises(NotImplementedError, match="complex32"):
        minigrad.view_as_complex(minigrad.ones(2, 2, dtype=minigrad.float16))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: 257 ** t.arange(3),  # a rolling n-gram hash's powers: an AttributeError
        lambda t: t.pow(3, t.arange(3)),
        lambda t: (-2) ** t.arange(4),
        lambda t: 2 ** t.arange(3, dtype=t.uint8),
        lambda t: 2 ** t.tensor([-1, 0]),  # negative integer exponents give 0 (or +-1)
        lambda t: (-1) ** t.tensor([-3, -2]),
        lambda t: True ** t.arange(3),
        lambda t: t.arange(3) ** 2,
    ],
)
def test_python_int_to_integer_tensor_power(call):
    torch = pytest.importorskip("torch")
    mine, theirs = call(minigrad), call(torch)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert mine.tolist() == theirs.tolist()


@pytest.mark.parametrize(
    "shapes",
    [((1, 4, 2, 4), (1, 2, 2, 4)), ((3, 2, 5, 4), (2, 2, 5, 4)), ((4, 5, 8), (2, 5, 8))],
)
def test_sdpa_heads_that_do_not_broadcast(shapes):
    """Fewer key/value heads without enable_gqa=True (the differential and latent attention
    programs' GQA): PyTorch's RuntimeError, not an internal TypeError."""
    torch = pytest.importorskip("torch")

    def call(t):
        q, k = t.ones(*shapes[0]), t.ones(*shapes[1])
        return t.nn.functional.scaled_dot_product_attention(q, k, k)

    (mine, message), (pytorchs, pytorch_message) = _error(minigrad, call), _error(torch, call)
    assert mine == pytorchs and message.startswith(pytorch_message)
