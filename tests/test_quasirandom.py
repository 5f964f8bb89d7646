"""minigrad.quasirandom.SobolEngine against torch.quasirandom.SobolEngine."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.quasirandom import SobolEngine
from minigrad.quasirandom._direction_numbers import MAX_DIMENSION, direction_numbers

torch = pytest.importorskip("torch")


def _steps(ours, theirs):
    """Draw, skip, reset and draw again on both engines; the points must be equal."""
    for step, n in [("draw", 5), ("ff", 3), ("draw", 9), ("reset", 0), ("draw", 1), ("draw", 16)]:
        if step == "draw":
            a = ours.draw(n, dtype=mg.float64).numpy()
            b = theirs.draw(n, dtype=torch.float64).numpy()
            np.testing.assert_array_equal(a, b)
        elif step == "ff":
            ours.fast_forward(n)
            theirs.fast_forward(n)
        else:
            ours.reset()
            theirs.reset()
        assert ours.num_generated == theirs.num_generated
        np.testing.assert_array_equal(ours.quasi.numpy(), theirs.quasi.numpy())


@pytest.mark.parametrize(
    "args", [(1, False, None), (5, False, None), (3, False, 7), (40, True, 3), (7, True, -1)]
)
def test_draws_equal_torch(args):
    ours, theirs = SobolEngine(*args), torch.quasirandom.SobolEngine(*args)
    assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(ours.sobolstate.numpy(), theirs.sobolstate.numpy())
    np.testing.assert_array_equal(ours.shift.numpy(), theirs.shift.numpy())
    _steps(ours, theirs)


def test_direction_numbers_equal_torch_table():
    state = torch.zeros(MAX_DIMENSION, 30, dtype=torch.long)
    torch._sobol_engine_initialize_state_(state, MAX_DIMENSION)
    np.testing.assert_array_equal(direction_numbers(MAX_DIMENSION), state.numpy())


def test_scrambled_high_dimension_and_default_dtype():
    ours = SobolEngine(1111, scramble=True, seed=12345)
    theirs = torch.quasirandom.SobolEngine(1111, scramble=True, seed=12345)
    a, b = ours.draw(33), theirs.draw(33)
    assert a.dtype == mg.float32 and a.shape == (33, 1111)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_draw_base2_out_and_errors():
    engine = SobolEngine(2)
    out = mg.empty(1)
    assert engine.draw_base2(2, out=out) is out
    np.testing.assert_array_equal(out.numpy(), torch.quasirandom.SobolEngine(2).draw(4).numpy())
    engine.draw(1)
    with pytest.raises(ValueError, match="power of 2"):
        engine.draw_base2(1)
    for bad in (0, 21202):
        with pytest.raises(ValueError, match=r"\[1, 21201\]"):
            SobolEngine(bad)
    with pytest.raises(NotImplementedError, match="direction-number table"):
        SobolEngine(MAX_DIMENSION + 1)
    with pytest.raises(TypeError, match="floating"):
        SobolEngine(2).draw(2, dtype=mg.int64)
    with pytest.raises(RuntimeError, match="non-negative"):
        SobolEngine(2).draw(-1)
    with pytest.raises(ValueError, match="non-negative"):
        SobolEngine(2).draw_base2(-1)
    with pytest.raises(TypeError, match="dimension must be an int"):
        SobolEngine(2.5)
    assert SobolEngine(3).draw(0).shape == (0, 3)


def test_scrambled_points_stay_balanced():
    """Every 2**m scrambled points put one point in each of 2**m elementary intervals of
    every coordinate (the (0, m, 1)-net property survives scrambling)."""
    points = SobolEngine(6, scramble=True, seed=0).draw_base2(6, dtype=mg.float64).numpy()
    cells = np.floor(points * 64).astype(int)
    for d in range(6):
        assert sorted(cells[:, d]) == list(range(64))
    assert not np.array_equal(points, SobolEngine(6, scramble=True, seed=1).draw(64).numpy())
