"""nn.utils.prune against torch.nn.utils.prune, on the Pruning tutorial's LeNet with copied
weights: masks, reparametrization (``_orig``, ``_mask``, the hook), iterative and global
pruning, remove."""

import numpy as np
import pytest

import minigrad
from minigrad.nn.utils import prune

torch = pytest.importorskip("torch")
tprune = pytest.importorskip("torch.nn.utils.prune")


def _lenet(lib):
    nn, F = lib.nn, lib.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3)
            self.conv2 = nn.Conv2d(6, 16, 3)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(-1, int(x.nelement() / x.shape[0]))
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return LeNet()


def _pair():
    theirs, ours = _lenet(torch), _lenet(minigrad)
    ours.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _same(ours, theirs):
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k in theirs_sd:
        np.testing.assert_allclose(ours_sd[k].numpy(), theirs_sd[k].numpy(), rtol=1e-6, err_msg=k)


def test_the_pruning_tutorial_matches_torch():
    ours, theirs = _pair()
    for lib, pr, model in ((minigrad, prune, ours), (torch, tprune, theirs)):
        module = model.conv1
        pr.l1_unstructured(module, name="weight", amount=0.3)
        pr.l1_unstructured(module, name="bias", amount=3)
        assert [n for n, _ in module.named_parameters()] == ["weight_orig", "bias_orig"]
        assert [n for n, _ in module.named_buffers()] == ["weight_mask", "bias_mask"]
        assert len(module._forward_pre_hooks) == 2 and pr.is_pruned(model)
        pr.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)  # iterative
        hook = next(h for h in module._forward_pre_hooks.values() if h._tensor_name == "weight")
        assert [type(m).__name__ for m in hook] == ["L1Unstructured", "LnStructured"]
        pr.ln_structured(model.conv2, name="weight", amount=3, n=float("inf"), dim=1)
        pr.global_unstructured(
            ((model.conv2, "weight"), (model.fc1, "weight"), (model.fc2, "weight")),
            pruning_method=pr.L1Unstructured,
            amount=0.2,
        )
        pr.custom_from_mask(model.fc3, "bias", mask=lib.tensor([0.0, 1.0] * 5))
    _same(ours, theirs)
    assert float((ours.conv1.weight == 0).sum()) == float((theirs.conv1.weight == 0).sum())
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    y_ours, y_theirs = ours(minigrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), atol=1e-5)
    y_ours.sum().backward()
    y_theirs.sum().backward()
    np.testing.assert_allclose(  # the gradient reaches _orig, masked
        ours.fc1.weight_orig.grad.numpy(), theirs.fc1.weight_orig.grad.numpy(), atol=1e-5
    )
    for pr, model in ((prune, ours), (tprune, theirs)):
        pr.remove(model.conv1, "weight")
        assert "weight" in dict(model.conv1.named_parameters())
        assert "weight_mask" not in dict(model.conv1.named_buffers())
    _same(ours, theirs)
    with pytest.raises(ValueError, match="has to be pruned before"):
        prune.remove(ours.conv1, "weight")


def test_random_pruning_counts_and_errors():
    model = _lenet(minigrad)
    prune.random_unstructured(model.fc1, "weight", amount=0.25)
    assert int((model.fc1.weight_mask == 0).sum()) == round(0.25 * 120 * 400)
    prune.random_structured(model.conv1, "weight", amount=2, dim=0)
    channels = model.conv1.weight_mask.sum(dim=(1, 2, 3))
    assert int((channels == 0).sum()) == 2 and int((channels == 9).sum()) == 4
    prune.identity(model.fc3, "weight")
    assert bool((model.fc3.weight_mask == 1).all())
    with pytest.raises(ValueError, match="float in the range"):
        prune.l1_unstructured(model.fc2, "weight", amount=1.5)
    with pytest.raises(ValueError, match="smaller than the number of parameters"):
        prune.l1_unstructured(model.fc2, "bias", amount=100)
    assert "bias" in dict(model.fc2.named_parameters())  # a failed prune leaves it as it was
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(model.fc2, "bias", amount=1, n=1, dim=0)
    assert not prune.is_pruned(_lenet(minigrad))


def test_a_custom_pruning_method_as_in_the_tutorial():
    class FooBarPruningMethod(prune.BasePruningMethod):
        """Prune every other entry in a tensor"""

        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    def foobar_unstructured(module, name):
        FooBarPruningMethod.apply(module, name)
        return module

    model = _lenet(minigrad)
    foobar_unstructured(model.fc3, name="bias")
    assert model.fc3.bias_mask.tolist() == [0.0, 1.0] * 5
    assert list(model.fc3.state_dict()) == ["weight", "bias_orig", "bias_mask"]
    prune.l1_unstructured(model.fc3, name="bias", amount=2)  # only among the 5 kept entries
    assert model.fc3.bias_mask.sum().item() == 3.0
