"""minigrad.vision.models and minigrad.vision.ops (torchvision's classification models and box
ops): state-dict keys, shapes and parameter counts equal torchvision's (the counts are the
``num_params`` of torchvision 0.28's weight metadata: torchvision cannot import here), blocks
that compute as a hand-written PyTorch twin loaded with the same weights, and box ops against
hand-worked answers and PyTorch's math."""

import numpy as np
import pytest

import minigrad
from minigrad.vision import models

TORCHVISION_NUM_PARAMS = {
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "resnext50_32x4d": 25_028_904,
    "resnext101_32x8d": 88_791_336,
    "resnext101_64x4d": 83_455_272,
    "wide_resnet50_2": 68_883_240,
    "wide_resnet101_2": 126_886_696,
}


def _on_meta(builder, **kwargs):
    """Build without drawing initial values (the shapes are all these tests need)."""
    with minigrad.device("meta"):
        return builder(**kwargs)


def _num_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(TORCHVISION_NUM_PARAMS))
def test_parameter_counts_match_torchvision(name):
    model = _on_meta(getattr(models, name))
    assert _num_params(model) == TORCHVISION_NUM_PARAMS[name]


def test_resnet_state_dict_keys_and_shapes():
    r18 = _on_meta(models.resnet18).state_dict()
    # torchvision's resnet18: 62 parameters + 3 buffers for each of its 20 batch norms.
    assert len(r18) == 122
    assert list(r18)[:6] == [
        "conv1.weight",
        "bn1.weight",
        "bn1.bias",
        "bn1.running_mean",
        "bn1.running_var",
        "bn1.num_batches_tracked",
    ]
    assert tuple(r18["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert tuple(r18["layer4.1.conv2.weight"].shape) == (512, 512, 3, 3)
    assert tuple(r18["fc.weight"].shape) == (1000, 512)
    assert "layer1.0.downsample.0.weight" not in r18  # 64 → 64 at stride 1: no shortcut conv
    r50 = _on_meta(models.resnet50).state_dict()
    assert len(r50) == 320
    assert tuple(r50["layer1.0.downsample.0.weight"].shape) == (256, 64, 1, 1)
    assert tuple(r50["layer3.5.conv3.weight"].shape) == (1024, 256, 1, 1)
    assert tuple(r50["fc.weight"].shape) == (1000, 2048)
    rx = _on_meta(models.resnext50_32x4d).state_dict()
    assert tuple(rx["layer1.0.conv2.weight"].shape) == (128, 4, 3, 3)  # 32 groups of width 4


@pytest.fixture(scope="module")
def resnet18():
    minigrad.manual_seed(0)
    return models.resnet18(num_classes=10)


def test_resnet18_init_follows_torchvision(resnet18):
    w = resnet18.layer3[0].conv1.weight
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert abs(w.std().item() / np.sqrt(2.0 / fan_out) - 1) < 0.05  # kaiming_normal_, fan_out
    bn = resnet18.layer3[0].bn2
    assert (bn.weight == 1).all().item() and (bn.bias == 0).all().item()
    # zero_init_residual zeroes the last batch norm of each residual branch only.
    holder = minigrad.nn.Sequential(models.Bottleneck(8, 2), models.BasicBlock(4, 4))
    models.ResNet._init_weights(holder, zero_init_residual=True)
    assert (holder[0].bn3.weight == 0).all().item() and (holder[0].bn2.weight == 1).all().item()
    assert (holder[1].bn2.weight == 0).all().item() and (holder[1].bn1.weight == 1).all().item()


def test_resnet18_forward_backward(resnet18):
    x = minigrad.randn(2, 3, 32, 32, requires_grad=True)
    out = resnet18(x)
    assert tuple(out.shape) == (2, 10)
    out.sum().backward()
    assert tuple(x.grad.shape) == (2, 3, 32, 32)
    assert resnet18.conv1.weight.grad is not None and resnet18.fc.bias.grad is not None
    resnet18.eval()
    one = resnet18(minigrad.randn(1, 3, 32, 32))  # batch of one: fine in eval mode
    assert tuple(one.shape) == (1, 10)


def test_weights_requests_raise_clearly():
    with pytest.raises(RuntimeError, match="no pretrained weights"):
        models.resnet18(weights="DEFAULT")
    with pytest.raises(RuntimeError, match="ResNet50_Weights.IMAGENET1K_V2"):
        models.resnet50(weights=models.ResNet50_Weights.DEFAULT)
    with pytest.raises(RuntimeError, match="pretrained=True"):
        models.resnet18(pretrained=True)
    assert _num_params(_on_meta(models.resnet18, pretrained=False)) == 11_689_512


def test_bad_block_arguments_raise_as_torchvision():
    with pytest.raises(ValueError, match="only supports groups=1 and base_width=64"):
        models.BasicBlock(4, 4, groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported"):
        models.BasicBlock(4, 4, dilation=2)
    with pytest.raises(ValueError, match="3-element tuple"):
        models.ResNet(models.Bottleneck, [1, 1, 1, 1], replace_stride_with_dilation=[True])


def _torch_twin_basic(torch, inplanes, planes, stride):
    """torchvision's BasicBlock written out in PyTorch by hand (same module names)."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + self.downsample(x))

    return Block()


def _torch_twin_bottleneck(torch, inplanes, planes, stride, groups, dilation):
    """torchvision's Bottleneck written out in PyTorch by hand (same module names)."""
    nn = torch.nn
    width = planes * groups

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, dilation, dilation, groups, False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4)
            )

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = torch.relu(self.bn2(self.conv2(out)))
            return torch.relu(self.bn3(self.conv3(out)) + self.downsample(x))

    return Block()


def _shortcut(inplanes, outplanes, stride):
    return minigrad.nn.Sequential(
        models.resnet.conv1x1(inplanes, outplanes, stride), minigrad.nn.BatchNorm2d(outplanes)
    )


@pytest.mark.parametrize("kind", ["basic", "bottleneck"])
def test_blocks_match_a_pytorch_twin(kind):
    torch = pytest.importorskip("torch")
    minigrad.manual_seed(1)
    if kind == "basic":
        ours = models.BasicBlock(4, 6, stride=2, downsample=_shortcut(4, 6, 2))
        twin = _torch_twin_basic(torch, 4, 6, 2)
    else:
        down = _shortcut(4, 12, 2)
        ours = models.Bottleneck(4, 3, stride=2, downsample=down, groups=2, dilation=2)
        twin = _torch_twin_bottleneck(torch, 4, 3, 2, groups=2, dilation=2)
    for p in ours.parameters():  # batch-norm affines away from 1/0 so they matter
        p.data = minigrad.randn(*p.shape) * 0.5 + (1.0 if p.ndim == 1 else 0.0)
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}
    twin.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((2, 4, 9, 9)).astype(np.float32)
    xm = minigrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ym, yt = ours(xm), twin(xt)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    (ym * ym).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(
        ours.conv1.weight.grad.numpy(), twin.conv1.weight.grad.numpy(), rtol=1e-3, atol=1e-4
    )
    ours.eval(), twin.eval()  # the running statistics the training step left
    np.testing.assert_allclose(
        ours(xm).detach().numpy(), twin(xt).detach().numpy(), rtol=1e-4, atol=1e-5
    )


def test_torchvision_models_import_under_as_torch():
    import importlib

    import minigrad.as_torch

    with minigrad.as_torch.imports():
        tv_models = importlib.import_module("torchvision.models")
    assert tv_models.resnet50 is models.resnet50 and tv_models.ResNet is models.ResNet
