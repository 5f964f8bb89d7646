"""A twelfth round of PyTorch programs, on sequences, language, audio and tabular data (TabNet's
sparsemax, ...), run with ``torch`` bound to minigrad and with PyTorch itself; minigrad's
generator follows PyTorch's streams, so the two runs are compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_tabnet_sparsemax(programs):
    ours, theirs = _both(programs, "tabnet_sparsemax")  # sparsemax Function, ghost BN, GLU
    assert ours.sparsemax_gradcheck and theirs.sparsemax_gradcheck
    assert ours.sparsemax_rows == theirs.sparsemax_rows == [[0.0, 0.6, 0.4, 0.0], [1, 0, 0, 0]]
    assert close(ours.losses, theirs.losses, 1e-8, 1e-10)
    assert ours.losses[-1] < 0.4 * ours.losses[0] and ours.accuracy == theirs.accuracy > 0.85
    assert close(ours.importance, theirs.importance, 1e-8, 1e-10)
    assert ours.mask_zero_fraction == theirs.mask_zero_fraction > 0.3  # sparse masks
    assert close(ours.running_mean, theirs.running_mean, 1e-10, 1e-12)
