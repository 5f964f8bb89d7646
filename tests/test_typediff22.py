"""A multi-element Tensor where PyTorch's parser expects a number (int, float, Number, bool,
tuple of ints) is refused with PyTorch's TypeError; one-element tensors PyTorch takes stay taken."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


def _call(mod, path, name, args, kwargs):
    x = mod.arange(1.0, 7.0).reshape(2, 3)
    many = mod.ones(2, 2)
    built = [x if a == "x" else many if a == "many" else a for a in args]
    kw = {k: many if v == "many" else v for k, v in kwargs.items()}
    if path == "Tensor":
        return getattr(x, name)(*built[1:], **kw)
    target = mod
    for part in path.split(".") if path else ():
        target = getattr(target, part)
    return getattr(target, name)(*built, **kw)


def _exception(mod, *call):
    try:
        _call(mod, *call)
    except Exception as exc:
        return exc
    return None


CASES = [
    ("", "cumsum", ("x", "many"), {}),
    ("", "cumsum", ("x",), {"dim": "many"}),
    ("", "roll", ("x", "many"), {}),
    ("", "unsqueeze", ("x", "many"), {}),
    ("", "narrow_copy", ("x", 0, "many", 1), {}),
    ("", "threshold", ("x", 1, "many"), {}),
    ("", "diff", ("x", "many"), {}),
    ("nn.functional", "elu", ("x", "many"), {}),
    ("nn.functional", "hardshrink", ("x", "many"), {}),
    ("fft", "fft", ("x", "many"), {}),
    ("Tensor", "cumsum", ("x", "many"), {}),
    ("Tensor", "tril", ("x", "many"), {}),
    ("Tensor", "roll", ("x",), {"shifts": "many"}),
    ("Tensor", "multinomial", ("x", "many"), {}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}.{c[1]}{sorted(c[3])}")
def test_multi_element_tensor_refused_as_pytorch(case):
    theirs, mine = _exception(torch, *case), _exception(minigrad, *case)
    assert type(theirs) is TypeError
    assert type(mine) is TypeError, repr(mine)
    assert str(mine) == str(theirs).splitlines()[0]


def test_parameter_refused_too():
    p = minigrad.nn.Parameter(minigrad.ones(2, 3))
    with pytest.raises(TypeError, match=r"cumsum\(\): argument 'dim' \(position 2\)"):
        minigrad.cumsum(minigrad.ones(2, 3), p)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.nn.functional.elu(m.ones(2, 3), m.tensor(0.5)),
        lambda m: m.nn.functional.hardshrink(m.ones(2, 3), m.tensor(0.5)),
        lambda m: m.ones(2, 3).tril(m.tensor(0)),
    ],
)
def test_zero_dim_tensors_taken_as_pytorch(call):
    expected = call(torch)
    assert call(minigrad).flatten().tolist() == pytest.approx(expected.flatten().tolist())


def test_number_after_a_tuple_refused():
    """``full(size, fill_value)``: the number parameter after a tuple of ints."""
    with pytest.raises(TypeError, match=r"full\(\): argument 'fill_value' \(position 2\)"):
        minigrad.full((2,), minigrad.ones(2, 2))
    assert minigrad.full((2,), minigrad.tensor(3.0)).tolist() == [3.0, 3.0]
