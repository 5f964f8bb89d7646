"""Loss modules against torch.nn's (forward and input gradients), edge cases and bad input."""

import numpy as np
import pytest
from helpers import to_numpy

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.testing.fake_device import HostTransfers

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((6, 4)).astype(np.float32)
LOGITS_3D = RNG.standard_normal((2, 4, 3)).astype(np.float32)
LABELS = np.array([0, 3, 1, 2, 2, 0])
LABELS_IGNORED = np.array([0, -100, 1, 2, -100, 0])
LABELS_3D = np.array([[0, 1, 3], [2, 3, 0]])
PROBS = RNG.dirichlet(np.ones(4), 6).astype(np.float32)
PRED = RNG.standard_normal((6, 4)).astype(np.float32)
TARGET = RNG.standard_normal((6, 4)).astype(np.float32)
UNIT = RNG.uniform(0.05, 0.95, (6, 4)).astype(np.float32)
BINARY = (RNG.uniform(size=(6, 4)) > 0.5).astype(np.float32)
WEIGHT4 = np.array([0.5, 1.0, 2.0, 1.5], np.float32)

# name: (module factory over a namespace and the `tensor` function, input, target)
CASES = {
    "mse": (lambda nn, t: nn.MSELoss(), PRED, TARGET),
    "mse_sum": (lambda nn, t: nn.MSELoss(reduction="sum"), PRED, TARGET),
    "l1_none": (lambda nn, t: nn.L1Loss(reduction="none"), PRED, TARGET),
    "smooth_l1": (lambda nn, t: nn.SmoothL1Loss(beta=0.5), PRED, TARGET),
    "smooth_l1_beta0": (lambda nn, t: nn.SmoothL1Loss(beta=0.0), PRED, TARGET),
    "huber": (lambda nn, t: nn.HuberLoss(delta=0.7), PRED, TARGET),
    "ce": (lambda nn, t: nn.CrossEntropyLoss(), LOGITS, LABELS),
    "ce_ignore_smooth": (
        lambda nn, t: nn.CrossEntropyLoss(label_smoothing=0.15),
        LOGITS,
        LABELS_IGNORED,
    ),
    "ce_weight_none": (
        lambda nn, t: nn.CrossEntropyLoss(weight=t(WEIGHT4), reduction="none", ignore_index=2),
        LOGITS,
        LABELS,
    ),
    "ce_weight_smooth": (
        lambda nn, t: nn.CrossEntropyLoss(weight=t(WEIGHT4), label_smoothing=0.2),
        LOGITS,
        LABELS_IGNORED,
    ),
    "ce_3d": (lambda nn, t: nn.CrossEntropyLoss(), LOGITS_3D, LABELS_3D),
    "ce_probs": (lambda nn, t: nn.CrossEntropyLoss(label_smoothing=0.1), LOGITS, PROBS),
    "ce_probs_weight": (lambda nn, t: nn.CrossEntropyLoss(weight=t(WEIGHT4)), LOGITS, PROBS),
    "ce_big_logits": (
        lambda nn, t: nn.CrossEntropyLoss(),
        np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, 1e4, 9999.0, 0.0]], np.float32),
        np.array([1, 2]),
    ),
    "nll": (lambda nn, t: nn.NLLLoss(weight=t(WEIGHT4)), LOGITS, LABELS_IGNORED),
    "nll_3d_none": (lambda nn, t: nn.NLLLoss(reduction="none"), LOGITS_3D, LABELS_3D),
    "bce": (lambda nn, t: nn.BCELoss(), UNIT, BINARY),
    "bce_weight_none": (lambda nn, t: nn.BCELoss(weight=t(UNIT), reduction="none"), UNIT, BINARY),
    "bce_saturated": (
        lambda nn, t: nn.BCELoss(),
        np.array([0.0, 1.0, 1e-30, 0.5], np.float32),
        np.array([0.0, 1.0, 1.0, 0.0], np.float32),
    ),
    "bce_logits": (lambda nn, t: nn.BCEWithLogitsLoss(), PRED * 5, UNIT),
    "bce_logits_pos_weight": (
        lambda nn, t: nn.BCEWithLogitsLoss(pos_weight=t(WEIGHT4), weight=t(UNIT[0])),
        PRED,
        BINARY,
    ),
    "bce_logits_huge": (
        lambda nn, t: nn.BCEWithLogitsLoss(reduction="sum"),
        np.array([1e4, -1e4, 50.0, -50.0], np.float32),
        np.array([0.0, 1.0, 1.0, 0.0], np.float32),
    ),
    "kl_batchmean": (
        lambda nn, t: nn.KLDivLoss(reduction="batchmean"),
        np.log(PROBS[::-1].copy()),
        PROBS,
    ),
    "kl_log_target_sum": (
        lambda nn, t: nn.KLDivLoss(reduction="sum", log_target=True),
        np.log(PROBS),
        np.log(PROBS[::-1].copy()),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_loss_module_matches_torch(name, device):
    factory, x, target = CASES[name]
    ours = factory(nn, lambda a: minigrad.tensor(a, device=device))
    theirs = factory(torch.nn, torch.tensor)
    xm = minigrad.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    lm = ours(xm, minigrad.tensor(target, device=device))
    lt = theirs(xt, torch.tensor(target))
    assert lm.shape == tuple(lt.shape) and lm.dtype is minigrad.float32
    np.testing.assert_allclose(to_numpy(lm), lt.detach().numpy(), rtol=1e-5, atol=1e-6)
    v = RNG.uniform(0.5, 1.5, tuple(lt.shape)).astype(np.float32)
    lm.backward(minigrad.tensor(v, device=device))
    lt.backward(torch.tensor(v))
    np.testing.assert_allclose(to_numpy(xm.grad), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_cross_entropy_out_of_range_target_names_the_value():
    x = minigrad.randn(3, 4)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, minigrad.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="Target -3 is out of bounds"):
        F.nll_loss(x, minigrad.tensor([0, -3, 1]))


def test_cross_entropy_out_of_range_on_device_is_nan_without_host_copy():
    x = minigrad.randn(3, 4, device="fakegpu")
    before = HostTransfers.count
    loss = F.cross_entropy(x, minigrad.tensor([0, 7, 1], device="fakegpu"))
    per = F.cross_entropy(x, minigrad.tensor([0, 7, 1], device="fakegpu"), reduction="none")
    assert HostTransfers.count == before
    assert np.isnan(loss.item())
    assert np.isnan(to_numpy(per)).tolist() == [False, True, False]


def test_cross_entropy_shape_errors():
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(minigrad.randn(3, 4), minigrad.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"expected target of shape \[2, 3\]"):
        F.cross_entropy(minigrad.randn(2, 4, 3), minigrad.tensor([[0, 1], [1, 1]]))
    with pytest.raises(RuntimeError, match="probabilities of the input's shape"):
        F.cross_entropy(minigrad.randn(2, 4), minigrad.rand(2, 3))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(minigrad.randn(2, 4), minigrad.tensor([0, 1]), weight=minigrad.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F.cross_entropy(minigrad.randn(2, 4), minigrad.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(minigrad.randn(2, 4), minigrad.tensor([0, 1]), reduction="avg")


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = np.zeros((2, 3), np.float32)
    t = np.array([-100, -100])
    ours = F.cross_entropy(minigrad.tensor(x), minigrad.tensor(t))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())


def test_cross_entropy_unbatched():
    x = RNG.standard_normal(5).astype(np.float32)
    ours = F.cross_entropy(minigrad.tensor(x), minigrad.tensor(3))
    theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(3))
    assert ours.shape == () and abs(ours.item() - theirs.item()) < 1e-6


def test_binary_cross_entropy_checks():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(minigrad.tensor([1.5]), minigrad.tensor([1.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(minigrad.tensor([0.5]), minigrad.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(minigrad.tensor([0.5]), minigrad.tensor([1.0, 0.0]))


def test_regression_losses_warn_on_broadcast_and_weight():
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(minigrad.zeros(3, 1), minigrad.zeros(3))
    x, t, w = minigrad.tensor([1.0, 2.0]), minigrad.tensor([0.0, 0.0]), minigrad.tensor([1.0, 3.0])
    ours = F.mse_loss(x, t, weight=w)
    theirs = torch.nn.functional.mse_loss(
        torch.tensor([1.0, 2.0]), torch.zeros(2), weight=torch.tensor([1.0, 3.0])
    )
    assert abs(ours.item() - theirs.item()) < 1e-6


def test_legacy_reduction_flags():
    x, t = minigrad.tensor([1.0, 3.0]), minigrad.tensor([0.0, 0.0])
    with pytest.warns(UserWarning, match="deprecated"):
        assert F.mse_loss(x, t, size_average=False).item() == 10.0
    with pytest.warns(UserWarning):
        assert F.l1_loss(x, t, reduce=False).tolist() == [1.0, 3.0]


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(minigrad.zeros(2, 2), minigrad.ones(2, 2) / 2)


def test_loss_weights_are_buffers():
    loss = nn.CrossEntropyLoss(weight=minigrad.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    loss.to("fakegpu")
    assert loss.weight.device.type == "fakegpu"
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=minigrad.ones(2)).state_dict()) == ["pos_weight"]


def test_double_backward_of_losses():
    """Losses can be differentiated twice (gradient penalties, meta-learning)."""
    x = minigrad.randn(4, 3, dtype=minigrad.float64, requires_grad=True)
    t = minigrad.tensor([0, 1, 2, 1])
    for loss_fn in (
        lambda: F.cross_entropy(x, t, label_smoothing=0.1),
        lambda: F.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
        lambda: F.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid().round()),
    ):
        (g,) = minigrad.autograd.grad(loss_fn(), x, create_graph=True)
        (gg,) = minigrad.autograd.grad((g * g).sum(), x)
        assert np.isfinite(gg.numpy()).all()
