"""A nineteenth round of PyTorch programs, from PyTorch's official tutorials and recipes not yet
covered (channels-last memory format, ...), run with ``torch`` bound to minigrad and with
PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_channels_last_tutorial(programs):
    ours, theirs = _both(programs, "channels_last_tutorial")  # strides, formats kept by ops
    assert ours.strides == theirs.strides and ours.strides["channels_last"] == (3072, 1, 96, 3)
    assert ours.formats == theirs.formats and ours.special == theirs.special
    assert ours.view_error == theirs.view_error and ours.view_error.startswith("view size")
    assert ours.kept == theirs.kept and not ours.kept["instance_norm"]
    assert ours.padded == theirs.padded and ours.softmax_strides == theirs.softmax_strides
    assert ours.conv_weight_stride == theirs.conv_weight_stride
    assert ours.out_stride == theirs.out_stride
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.losses["torch.channels_last"][-1] < ours.losses["torch.channels_last"][0]
    assert ours.grads_format == theirs.grads_format and ours.weight_format
