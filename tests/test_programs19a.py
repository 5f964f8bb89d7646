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


def test_sdpa_tutorial(programs):
    ours, theirs = _both(programs, "sdpa_tutorial")  # sdpa_kernel, CausalSelfAttention, jagged
    assert close(ours.basic.tolist(), theirs.basic.tolist(), 1e-5, 1e-6)
    assert (
        list(ours.backends)
        == list(theirs.backends)
        == ["SDPBackend.MATH", "SDPBackend.FLASH_ATTENTION"]
    )
    assert close(list(ours.backends.values()), list(theirs.backends.values()), 1e-5, 1e-6)
    assert ours.backend_gap < 1e-5
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.causal_gap == theirs.causal_gap == 0.0
    assert ours.lengths == theirs.lengths and ours.padded_shape == theirs.padded_shape
    assert close(ours.nested_sums, theirs.nested_sums, 1e-5, 1e-5) and ours.nested_gap < 1e-5
    assert ours.compile_gap < 1e-6 and theirs.compile_gap < 1e-6
    assert ours.bias_repr == theirs.bias_repr and ours.bias_error == theirs.bias_error
    assert close(ours.bias_outputs, theirs.bias_outputs, 1e-5) and ours.last_query_gap < 1e-6
