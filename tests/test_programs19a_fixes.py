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
