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
