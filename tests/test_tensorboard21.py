"""SummaryWriter protos compared with torch.utils.tensorboard's for the same inputs."""

import numpy as np
import pytest

pytest.importorskip("tensorboard")
torch = pytest.importorskip("torch")
from torch.utils.tensorboard import summary as tsummary  # noqa: E402

from minigrad.utils.tensorboard import _summary  # noqa: E402

_RNG = np.random.default_rng(0)
_HIST_CASES = [
    (_RNG.standard_normal((4, 8)), "tensorflow", None),
    (np.full(5, 3.0), "tensorflow", None),
    (np.array([2.5]), "tensorflow", None),
    (-_RNG.random(20), "tensorflow", None),
    (np.arange(10), "tensorflow", None),
    (np.zeros(4), "tensorflow", None),
    (np.full(3, -1.0), 10, None),
    (_RNG.standard_normal(50), "auto", None),
    (_RNG.standard_normal(50), np.linspace(-3, 3, 7), None),
    (_RNG.standard_normal(100), "tensorflow", 7),
    (_RNG.standard_normal(100), 30, 7),
    (_RNG.standard_normal(100), "fd", 3),
]


def test_tensorflow_bins_equal_pytorchs(tmp_path):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    writer = TorchWriter(tmp_path)
    assert _summary.tensorflow_bins().tolist() == writer.default_bins
    writer.close()


@pytest.mark.parametrize("values,bins,max_bins", _HIST_CASES)
def test_histogram_proto_equals_pytorchs(values, bins, max_bins):
    torch_bins = (
        _summary.tensorflow_bins() if isinstance(bins, str) and bins == "tensorflow" else bins
    )
    expected = tsummary.histogram("h", torch.tensor(values), torch_bins, max_bins=max_bins)
    got = _summary.histogram("h", values, bins, max_bins)
    assert got.SerializeToString() == expected.SerializeToString()
