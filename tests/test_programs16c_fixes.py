"""Fixes found by the sixteenth round's programs (tests/test_programs16c.py), each checked
against PyTorch: a 0/1 float or integer mask given to masked_fill, masked_scatter or where (a
common slip when a mask is built by arithmetic, as in fairness and active-learning code) raises
RuntimeError in PyTorch's words instead of a TypeError of minigrad's own; ``torch.bernoulli`` of
integer or bool probabilities (a 0/1 label tensor passed where probabilities were meant) raises
PyTorch's NotImplementedError instead of echoing the labels back."""

import pytest

import minigrad

torch = pytest.importorskip("torch")

CALLS = {
    "masked_fill": lambda t, m: t.zeros(2).masked_fill(m, 1.0),
    "masked_fill_": lambda t, m: t.zeros(2).masked_fill_(m, 1.0),
    "masked_fill_tensor_value": lambda t, m: t.masked_fill(t.zeros(2), m, t.tensor(1.0)),
    "masked_scatter": lambda t, m: t.zeros(2).masked_scatter(m, t.ones(2)),
    "where": lambda t, m: t.where(m, t.zeros(2), t.ones(2)),
}
DTYPES = ["float32", "float64", "int64", "uint8", "float16"]
# PyTorch's where still takes a uint8 condition (deprecated): the last test
CASES = [(n, d) for n in CALLS for d in DTYPES if (n, d) != ("where", "uint8")]


def _error(lib, call, dtype_name):
    mask = lib.tensor([1, 0]).to(getattr(lib, dtype_name))
    with pytest.raises(RuntimeError) as info:
        call(lib, mask)
    return str(info.value)


@pytest.mark.filterwarnings("ignore:masked_scatter_ received a mask")  # PyTorch, then raises
@pytest.mark.parametrize("name, dtype_name", CASES)
def test_non_bool_masks_raise_pytorchs_error(name, dtype_name):
    """masked_fill with a float mask raised ``TypeError: where: condition must be a bool
    tensor``; PyTorch raises RuntimeError ("masked_fill_ only supports boolean masks, but got
    mask with dtype float"), the message people search for. The messages now agree word for
    word, dtype names included (``long int``, ``c10::Half`` / ``Long``, ``Half``)."""
    call = CALLS[name]
    assert _error(minigrad, call, dtype_name) == _error(torch, call, dtype_name)


def test_bool_masks_still_work_and_non_tensor_conditions_stay_type_errors():
    mask = minigrad.tensor([True, False])
    assert minigrad.zeros(2).masked_fill(mask, 1.0).tolist() == [1.0, 0.0]
    assert minigrad.where(mask, minigrad.zeros(2), 2.0).tolist() == [0.0, 2.0]
    with pytest.raises(TypeError):  # PyTorch: "where() received an invalid combination ..."
        minigrad.where(True, minigrad.zeros(2), minigrad.ones(2))


def test_where_accepts_a_uint8_condition_with_pytorchs_deprecation_warning():
    """PyTorch still takes a uint8 condition in ``where`` (masks made before bool tensors
    existed), with a deprecation warning; masked_fill refuses it (above)."""
    for lib in (minigrad, torch):
        with pytest.warns(UserWarning, match="where received a uint8 condition tensor"):
            out = lib.where(lib.tensor([1, 0], dtype=lib.uint8), lib.zeros(2), lib.ones(2))
        assert out.tolist() == [0.0, 1.0]


BERNOULLI_REFUSED = {
    "bernoulli_long": lambda t: t.bernoulli(t.tensor([1, 0])),
    "bernoulli_bool": lambda t: t.bernoulli(t.tensor([True, False])),
    "bernoulli_uint8": lambda t: t.bernoulli(t.tensor([1, 0], dtype=t.uint8)),
    "method": lambda t: t.tensor([1, 0]).bernoulli(),
    "inplace_long_p": lambda t: t.zeros(2).bernoulli_(t.tensor([1, 0])),
}


@pytest.mark.parametrize("name", list(BERNOULLI_REFUSED))
def test_bernoulli_of_integer_probabilities_raises_as_pytorch(name):
    """PyTorch has no kernel drawing from integer or bool probabilities; minigrad returned the
    0/1 input unchanged (a silent non-random answer)."""
    call = BERNOULLI_REFUSED[name]
    with pytest.raises(NotImplementedError) as theirs:
        call(torch)
    with pytest.raises(NotImplementedError) as ours:
        call(minigrad)
    assert str(theirs.value) in str(ours.value)  # '"bernoulli_tensor_cpu_p_" not implemented ...'


def test_bernoulli_integer_outputs_with_float_probabilities_still_draw_pytorchs_samples():
    """An integer tensor filled with draws from a number or float tensor is allowed, as in
    PyTorch, and draws PyTorch's samples."""
    calls = [
        lambda t: t.bernoulli(t.tensor([1, 0, 1, 1]), 0.5),
        lambda t: t.zeros(5, dtype=t.long).bernoulli_(0.5),
        lambda t: t.zeros(3, dtype=t.long).bernoulli_(t.tensor([0.2, 0.5, 0.9])),
    ]
    for call in calls:
        torch.manual_seed(3)
        minigrad.manual_seed(3)
        theirs, ours = call(torch), call(minigrad)
        assert ours.tolist() == theirs.tolist() and ours.dtype.name == str(theirs.dtype)[6:]


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.normal(t.zeros(2), t.ones(2), size=(2,)),
        lambda t: t.normal(0.0, t.ones(2), size=(2,)),
        lambda t: t.normal(t.zeros(2), 1.0, (2,)),
    ],
)
def test_normal_with_a_tensor_and_a_size_is_a_type_error(call):
    """DP noise code writes ``torch.normal(mean_tensor, std, size=...)``; PyTorch's argument
    parser refuses it with TypeError ("received an invalid combination of arguments"), which
    minigrad raised as RuntimeError."""
    for lib in (torch, minigrad):
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            call(lib)
