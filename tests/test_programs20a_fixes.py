"""Fixes found by the twentieth round's programs (tests/test_programs20a.py), each checked
against PyTorch: the warning PyTorch gives once a process when nested sequences hold NumPy
arrays (MIT 6.S191's ``get_batch`` builds ``torch.tensor(input_batch)`` from a list of index
arrays), and the errors of ragged arrays and of a 0-d array opening a sequence."""

import warnings

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

SLOW = "Creating a tensor from a list of numpy.ndarrays is extremely slow."


def _messages(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = make()
    return out, [str(w.message).split(" (Triggered")[0] for w in caught]


def test_a_list_of_ndarrays_warns_once_that_it_is_slow(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    rows = [np.arange(3), np.arange(3, 6)]
    out, said = _messages(lambda: minigrad.tensor(rows))
    assert out.tolist() == [[0, 1, 2], [3, 4, 5]] and out.dtype == minigrad.int64
    assert said == [
        SLOW + " Please consider converting the list to a single numpy.ndarray with "
        "numpy.array() before converting to a tensor."
    ]
    assert _messages(lambda: minigrad.tensor(rows))[1] == []  # once a process, as PyTorch
    theirs, their_said = _messages(lambda: torch.tensor(rows))
    assert their_said in ([], said)  # PyTorch's own once-a-process flag may be spent already
    assert theirs.tolist() == out.tolist()


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.tensor(([1.0, 2.0], np.ones(2))),  # a tuple, an array after a list
        lambda t: t.tensor([[np.zeros(2, dtype=np.float32)]]),  # deeper
        lambda t: t.as_tensor([np.zeros(2), np.ones(2)], dtype=t.float32),
        lambda t: t.Tensor([np.zeros(2), np.ones(2)]),
        lambda t: t.zeros(1).new_tensor([np.zeros(2)]),
    ],
)
def test_every_constructor_from_data_warns(monkeypatch, make):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    out, said = _messages(lambda: make(minigrad))
    assert len(said) == 1 and said[0].startswith(SLOW)
    theirs = make(torch)
    assert out.tolist() == theirs.tolist() and str(out.dtype)[8:] == str(theirs.dtype)[5:]


def test_no_warning_without_arrays_or_values(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    for make in (
        lambda: minigrad.tensor([np.float64(1.0), np.int32(2)]),  # NumPy scalars are not arrays
        lambda: minigrad.tensor([[1, 2], [3, 4]]),
        lambda: minigrad.tensor(np.ones((2, 2))),  # one array: no list to walk
        lambda: minigrad.tensor([np.zeros(0)]),  # nothing is read element by element
    ):
        assert _messages(make)[1] == []


@pytest.mark.parametrize(
    "rows, error",
    [
        ([np.zeros(2), np.ones(3)], ValueError),  # "expected sequence of length 2 at dim 1 (got 3)"
        ([np.zeros((2, 2)), np.ones((2, 3))], ValueError),
        ([1.0, np.zeros(2)], TypeError),  # an array where a number belongs
    ],
)
def test_ragged_arrays_in_a_list_are_named_as_pytorch_names_them(monkeypatch, rows, error):
    monkeypatch.setattr(minigrad._warnings, "_said_once", {"list of ndarrays"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as theirs:
            torch.tensor(rows)
    with pytest.raises(error) as ours:
        minigrad.tensor(rows)
    if error is ValueError:  # the words too: the first length and the dim that differs
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    "rows",
    [[np.array(1.5), 2.0], [[np.array(1.5)]], [np.array(1, dtype=np.int32), np.array(2)]],
)
def test_a_0d_array_opening_a_sequence_raises_as_in_pytorch(rows):
    for lib in (torch, minigrad):  # the shape is read by len() along the first elements
        for make in (lib.tensor, lib.as_tensor, lib.Tensor):
            with pytest.raises(TypeError, match=r"^len\(\) of unsized object"):
                make(rows)


def test_a_0d_array_later_in_a_sequence_is_a_number(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", {"list of ndarrays"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.tensor([1.0, np.array(2.0)])
    ours = minigrad.tensor([1.0, np.array(2.0)])
    assert ours.tolist() == theirs.tolist() == [1.0, 2.0] and ours.dtype == minigrad.float64
    assert minigrad.tensor(np.array(1.5)).shape == ()  # a 0-d array alone is a 0-d tensor
