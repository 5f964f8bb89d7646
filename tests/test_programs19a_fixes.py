"""Focused tests for what the nineteenth round of programs from PyTorch's official tutorials
and recipes (tests/test_programs19a.py) found different from PyTorch, each compared with
PyTorch itself."""

import pytest

import minigrad


def _strides(lib, make):
    lib.manual_seed(0)
    return make(lib).stride()


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.randn(3, 4).t().softmax(1),  # a fresh row-major result, whatever the input
        lambda t: t.randn(2, 3, 4).permute(2, 0, 1).log_softmax(0),
        lambda t: t.randn(2, 4, 3, 3).to(memory_format=t.channels_last).softmax(1),
        lambda t: t.nn.functional.pad(
            t.randn(2, 4, 3, 3).to(memory_format=t.channels_last), (1, 2)
        ),
        lambda t: t.nn.functional.pad(
            t.randn(2, 4, 3, 3).to(memory_format=t.channels_last), (1, 1, 1, 1), mode="reflect"
        ),
        lambda t: t.nn.functional.pad(
            t.randn(2, 4, 3, 3).to(memory_format=t.channels_last), (1, 1, 1, 1), mode="replicate"
        ),
        lambda t: t.nn.functional.pad(
            t.randn(2, 4, 3, 3).to(memory_format=t.channels_last), (1, 1, 1, 1), mode="circular"
        ),
        lambda t: t.nn.functional.pad(t.randn(3, 4).t(), (1, 1)),  # row-major out
        lambda t: t.nn.functional.group_norm(
            t.randn(2, 4, 3, 3).to(memory_format=t.channels_last), 2
        ),
        lambda t: t.nn.GroupNorm(2, 4)(t.randn(2, 4, 2, 3, 3).to(memory_format=t.channels_last_3d)),
    ],
)
def test_output_layouts_of_softmax_pad_and_group_norm(make):
    torch = pytest.importorskip("torch")
    assert _strides(minigrad, make) == _strides(torch, make)


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "shape, widths", [((2, 4, 3, 3), (1, 1)), ((3,), (1, 1)), ((2, 3), (1,) * 4)]
)
def test_pad_modes_refuse_ranks_their_kernels_lack(mode, shape, widths):
    torch = pytest.importorskip("torch")
    call = lambda t: t.nn.functional.pad(t.ones(shape), widths, mode=mode)  # noqa: E731
    assert _error(minigrad, call) == _error(torch, call)


def _attention_strides(lib, make_query, **kwargs):
    """The strides of attention's output for a query laid out by ``make_query``."""
    lib.manual_seed(0)
    b, h, length, d = 2, 3, 4, 8
    q = make_query(lib.randn(b, length, 3 * h * d)[..., : h * d], b, length, h, d)
    k, v = lib.randn(b, h, 5, d), lib.randn(b, h, 5, d)
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs).stride()


@pytest.mark.parametrize(
    "make_query, kwargs",
    [
        # the heads of a (B, L, H*D) projection: the output is laid out so too (flash kernel)
        (lambda x, b, n, h, d: x.view(b, n, h, d).transpose(1, 2), {}),
        (lambda x, b, n, h, d: x.reshape(b, n, h, d).transpose(1, 2), {"is_causal": True}),
        (lambda x, b, n, h, d: x.reshape(b, n, h, d).transpose(1, 2), {"dropout_p": 0.5}),
        (lambda x, b, n, h, d: x.reshape(b, n, h, d).permute(2, 0, 1, 3).transpose(0, 1), {}),
        (lambda x, b, n, h, d: x.reshape(b, h, n, d), {}),
    ],
)
def test_attention_output_follows_the_query_layout(make_query, kwargs):
    torch = pytest.importorskip("torch")
    ours = _attention_strides(minigrad, make_query, **kwargs)
    assert ours == _attention_strides(torch, make_query, **kwargs)


def test_attention_under_math_backend_writes_row_major():
    torch = pytest.importorskip("torch")
    strides = []
    for lib in (minigrad, torch):
        with lib.nn.attention.sdpa_kernel(lib.nn.attention.SDPBackend.MATH):
            query = lambda x, b, n, h, d: x.reshape(b, n, h, d).transpose(1, 2)  # noqa: E731
            strides.append(_attention_strides(lib, query))
    assert strides[0] == strides[1] == (96, 32, 8, 1)


def test_jagged_attention_output_views_back_to_sequences():
    """The tutorial's ``y.transpose(1, 2).view(B, -1, H * D)`` on a jagged batch."""
    nt = minigrad.nested.nested_tensor(
        [minigrad.randn(3, 8), minigrad.randn(5, 8)], layout=minigrad.jagged
    )
    q = nt.view(2, -1, 2, 4).transpose(1, 2)
    y = minigrad.nn.functional.scaled_dot_product_attention(q, q, q)
    merged = y.transpose(1, 2).view(2, -1, 8)
    for i, t in enumerate(nt.unbind()):
        one = t.view(1, -1, 2, 4).transpose(1, 2)
        dense = minigrad.nn.functional.scaled_dot_product_attention(one, one, one)
        assert minigrad.allclose(merged.unbind()[i], dense.transpose(1, 2).reshape(-1, 8))


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.cat([t.randn(2, 3, 4).transpose(0, 1), t.randn(2, 5, 4).transpose(0, 1)]),
        lambda t: t.cat([t.randn(3, 2).t(), t.randn(2, 3)], 1),
        lambda t: t.cat([t.randn(2, 3, 4, 4).to(memory_format=t.channels_last)] * 2, 1),
        lambda t: t.cat(
            [t.randn(2, 3, 4, 4).to(memory_format=t.channels_last), t.randn(2, 3, 4, 4)]
        ),
    ],
)
def test_cat_lays_its_result_out_as_pytorch(make):
    torch = pytest.importorskip("torch")
    assert _strides(minigrad, make) == _strides(torch, make)


def test_sdp_backend_prints_as_pytorchs():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        backend = lib.nn.attention.SDPBackend.FLASH_ATTENTION
        assert (str(backend), f"{backend}", int(backend)) == ("SDPBackend.FLASH_ATTENTION",) * 2 + (
            1,
        )


def test_switched_off_profilers_bind_none():
    """``with torch.autograd.profiler.profile(enabled=False) as prof`` binds None, as
    PyTorch's (the performance guide's way to switch the profiler off)."""
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        with lib.autograd.profiler.profile(enabled=False) as prof:
            lib.ones(2).sum()
        with lib.autograd.profiler.emit_nvtx(enabled=False) as ranges:
            lib.ones(2).sum()
        assert prof is None and ranges is None
    with minigrad.autograd.profiler.profile() as prof:
        minigrad.ones(2).sum()
    assert prof is not None and len(prof.key_averages()) > 0
