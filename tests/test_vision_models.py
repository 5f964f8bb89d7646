"""minigrad.vision.models and minigrad.vision.ops (torchvision's classification models and box
ops): state-dict keys, shapes and parameter counts equal torchvision's (the counts are the
``num_params`` of torchvision 0.28's weight metadata: torchvision cannot import here), blocks
that compute as a hand-written PyTorch twin loaded with the same weights, and box ops against
hand-worked answers and PyTorch's math."""

import numpy as np
import pytest

import minigrad
from minigrad.vision import models, ops

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
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
    "alexnet": 61_100_840,
    "mobilenet_v2": 3_504_872,
    "densenet121": 7_978_856,
    "densenet161": 28_681_000,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
}


def _on_meta(builder, **kwargs):
    """Build without drawing initial values (the shapes are all these tests need)."""
    with minigrad.device("meta"):
        return builder(**kwargs)


def _num_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(TORCHVISION_NUM_PARAMS))
def test_parameter_counts_match_torchvision(name):
    model = _on_meta(models.get_model, name=name)
    assert _num_params(model) == TORCHVISION_NUM_PARAMS[name]


def test_densenet_memory_efficient_gives_the_same_gradients():
    """``memory_efficient=True`` recomputes each bottleneck in the backward pass (checkpoint):
    same outputs and gradients; torchvision's state-dict names."""
    results = []
    for efficient in (False, True):
        minigrad.manual_seed(0)
        model = models.DenseNet(8, (2, 2, 2, 2), 16, num_classes=3, memory_efficient=efficient)
        out = model(minigrad.randn(2, 3, 32, 32))
        out.sum().backward()
        results.append((out.flatten().tolist(), model.features.conv0.weight.grad.sum().item()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5, abs=1e-6)
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-4)
    keys = list(model.state_dict())
    assert "features.denseblock1.denselayer2.conv2.weight" in keys
    assert "features.transition3.conv.weight" in keys and keys[-1] == "classifier.bias"


def test_model_registry():
    assert set(TORCHVISION_NUM_PARAMS) <= set(models.list_models(module=models))
    assert models.list_models(module=models, include="vgg1[16]*", exclude="*_bn") == [
        "vgg11",
        "vgg16",
    ]
    assert models.list_models(include=["alex*", "mobile*"]) == [
        "alexnet",
        "mobilenet_v2",
        "mobilenet_v3_large",
        "mobilenet_v3_small",
    ]
    assert models.get_model_builder("ResNet50") is models.resnet50
    assert models.get_model_weights("resnet50") is models.ResNet50_Weights
    assert models.get_model_weights(models.vgg16).DEFAULT is models.VGG16_Weights.IMAGENET1K_V1
    assert type(_on_meta(models.get_model, name="resnet18", num_classes=3).fc).__name__ == "Linear"
    with pytest.raises(ValueError, match="Unknown model resnet7"):
        models.get_model("resnet7")


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


def test_vgg_alexnet_mobilenet_state_dict_layout():
    vgg = _on_meta(models.vgg16_bn).state_dict()
    assert tuple(vgg["features.0.weight"].shape) == (64, 3, 3, 3)
    assert "features.1.running_var" in vgg and "features.2.weight" not in vgg  # conv, bn, relu
    assert tuple(vgg["features.41.weight"].shape) == (512,)  # the last batch norm
    assert tuple(vgg["classifier.6.weight"].shape) == (1000, 4096)
    alex = _on_meta(models.alexnet).state_dict()
    assert tuple(alex["features.3.weight"].shape) == (192, 64, 5, 5)
    assert tuple(alex["classifier.1.weight"].shape) == (4096, 9216)
    mb = _on_meta(models.mobilenet_v2).state_dict()
    assert tuple(mb["features.0.0.weight"].shape) == (32, 3, 3, 3)
    assert tuple(mb["features.1.conv.0.0.weight"].shape) == (32, 1, 3, 3)  # t=1: no expansion
    assert tuple(mb["features.1.conv.1.weight"].shape) == (16, 32, 1, 1)
    assert tuple(mb["features.2.conv.0.0.weight"].shape) == (96, 16, 1, 1)
    assert tuple(mb["features.18.0.weight"].shape) == (1280, 320, 1, 1)
    assert tuple(mb["classifier.1.weight"].shape) == (1000, 1280)
    with pytest.raises(RuntimeError, match="vgg16_bn"):
        models.vgg16_bn(weights=models.VGG16_BN_Weights.DEFAULT)
    assert models.VGG16_Weights.DEFAULT is models.VGG16_Weights.IMAGENET1K_V1


def test_mobilenet_v2_forward_backward():
    minigrad.manual_seed(0)
    model = models.mobilenet_v2(num_classes=5, width_mult=0.25)
    x = minigrad.randn(2, 3, 32, 32, requires_grad=True)
    out = model(x)
    assert tuple(out.shape) == (2, 5)
    out.sum().backward()
    assert x.grad is not None and model.features[0][0].weight.grad is not None
    assert model.features[2].use_res_connect is False and model.features[3].use_res_connect
    with pytest.raises(ValueError, match="stride should be 1 or 2 instead of 3"):
        models.mobilenetv2.InvertedResidual(8, 8, 3, 6)


def test_conv2d_norm_activation_layout():
    block = ops.Conv2dNormActivation(3, 4, kernel_size=5, stride=2)
    assert [type(m).__name__ for m in block] == ["Conv2d", "BatchNorm2d", "ReLU"]
    assert block[0].padding == (2, 2) and block[0].bias is None and block[2].inplace
    bare = ops.Conv2dNormActivation(3, 4, dilation=2, norm_layer=None, activation_layer=None)
    assert len(bare) == 1 and bare[0].bias is not None and bare[0].padding == (2, 2)
    assert tuple(block(minigrad.randn(2, 3, 8, 8)).shape) == (2, 4, 4, 4)


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
def test_blocks_match_a_pytorch_twin(kind, tmp_path):
    """The twin's weights go through ``torch.save`` and ``minigrad.load``, the way a user
    brings PyTorch-trained weights over."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    if kind == "basic":
        ours = models.BasicBlock(4, 6, stride=2, downsample=_shortcut(4, 6, 2))
        twin = _torch_twin_basic(torch, 4, 6, 2)
    else:
        down = _shortcut(4, 12, 2)
        ours = models.Bottleneck(4, 3, stride=2, downsample=down, groups=2, dilation=2)
        twin = _torch_twin_bottleneck(torch, 4, 3, 2, groups=2, dilation=2)
    with torch.no_grad():
        for name, value in twin.state_dict().items():  # batch norms away from 1/0/identity
            if "bn" in name or name.startswith("downsample.1"):
                if value.is_floating_point():
                    value.copy_(torch.rand_like(value) + 0.5)
    torch.save(twin.state_dict(), tmp_path / "block.pth")
    ours.load_state_dict(minigrad.load(tmp_path / "block.pth"))
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
        tv_ops = importlib.import_module("torchvision.ops")
    assert tv_models.resnet50 is models.resnet50 and tv_models.ResNet is models.ResNet
    assert tv_ops.nms is ops.nms


# ---- minigrad.vision.ops: box operations ---------------------------------------------------


def _random_boxes(rng, n, scale=20.0):
    """Valid ``xyxy`` boxes with integer corners, so overlaps and ties are common."""
    xy = rng.integers(0, int(scale), (n, 2)).astype(np.float64)
    wh = rng.integers(1, int(scale) // 2, (n, 2)).astype(np.float64)
    return np.concatenate([xy, xy + wh], axis=1)


def _iou_by_hand(a, b):
    """Pairwise IoU with explicit loops: the reference."""
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - w * h
            out[i, j] = w * h / union
    return out


def _nms_by_hand(boxes, scores, threshold, labels=None):
    """The greedy rule written the slow way: best remaining box first (ties: lower index)."""
    labels = np.zeros(len(boxes)) if labels is None else labels
    iou = _iou_by_hand(boxes, boxes)
    alive = list(sorted(range(len(boxes)), key=lambda i: (-scores[i], i)))
    keep = []
    while alive:
        best = alive.pop(0)
        keep.append(best)
        alive = [j for j in alive if not (labels[j] == labels[best] and iou[best, j] > threshold)]
    return keep


def test_box_convert_area_and_iou_against_hand_references():
    rng = np.random.default_rng(0)
    a, b = _random_boxes(rng, 5), _random_boxes(rng, 3)
    ta, tb = minigrad.tensor(a), minigrad.tensor(b)
    np.testing.assert_allclose(ops.box_iou(ta, tb).numpy(), _iou_by_hand(a, b))
    areas = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    np.testing.assert_allclose(ops.box_area(ta).numpy(), areas)
    xywh = np.concatenate([a[:, :2], a[:, 2:] - a[:, :2]], axis=1)
    cxcywh = np.concatenate([(a[:, :2] + a[:, 2:]) / 2, a[:, 2:] - a[:, :2]], axis=1)
    np.testing.assert_allclose(ops.box_convert(ta, "xyxy", "xywh").numpy(), xywh)
    np.testing.assert_allclose(ops.box_convert(ta, "xyxy", "cxcywh").numpy(), cxcywh)
    t_xywh, t_cxcywh = minigrad.tensor(xywh), minigrad.tensor(cxcywh)
    np.testing.assert_allclose(ops.box_convert(t_xywh, "xywh", "cxcywh").numpy(), cxcywh)
    np.testing.assert_allclose(ops.box_convert(t_cxcywh, "cxcywh", "xywh").numpy(), xywh)
    np.testing.assert_allclose(ops.box_convert(t_cxcywh, "cxcywh", "xyxy").numpy(), a)
    np.testing.assert_allclose(ops.box_area(t_xywh, fmt="xywh").numpy(), areas)
    iou_cx = ops.box_iou(t_cxcywh, minigrad.tensor(cxcywh[:2]), fmt="cxcywh")
    np.testing.assert_allclose(iou_cx.numpy(), _iou_by_hand(a, a[:2]))
    assert tuple(ops.box_iou(ta[None].expand(2, 5, 4), tb).shape) == (2, 5, 3)  # batched
    assert ops.box_area(minigrad.tensor([[0, 0, 300, 300]], dtype=minigrad.int16)).item() == 90000
    with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions"):
        ops.box_convert(ta, "xyxy", "yxyx")
    with pytest.raises(NotImplementedError, match="rotated"):
        ops.box_convert(ta, "xywh", "cxcywhr")
    with pytest.raises(ValueError, match="Unsupported Bounding Box area"):
        ops.box_area(ta, fmt="xywhr")


def test_generalized_box_iou_and_its_gradient_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = _random_boxes(rng, 4), _random_boxes(rng, 3) + 0.25
    ours_a = minigrad.tensor(a, requires_grad=True)
    theirs_a = torch.tensor(a, requires_grad=True)
    giou = ops.generalized_box_iou(ours_a, minigrad.tensor(b))

    tb = torch.tensor(b)  # the GIoU formula written in PyTorch
    lt = torch.max(theirs_a[:, None, :2], tb[None, :, :2])
    rb = torch.min(theirs_a[:, None, 2:], tb[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda t: (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])  # noqa: E731
    union = area(theirs_a)[:, None] + area(tb)[None, :] - inter
    hull = (
        torch.max(theirs_a[:, None, 2:], tb[None, :, 2:])
        - torch.min(theirs_a[:, None, :2], tb[None, :, :2])
    ).prod(-1)
    expected = inter / union - (hull - union) / hull
    np.testing.assert_allclose(giou.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    weights = rng.standard_normal((4, 3))
    (giou * minigrad.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours_a.grad.numpy(), theirs_a.grad.numpy(), rtol=1e-10)
    assert ops.generalized_box_iou(minigrad.tensor(a), minigrad.tensor(a)).diagonal().eq(1).all()


def test_box_iou_gradcheck():
    rng = np.random.default_rng(2)
    a = minigrad.tensor(_random_boxes(rng, 3) + 0.3, requires_grad=True)
    b = minigrad.tensor(_random_boxes(rng, 2) + 0.1, requires_grad=True)
    assert minigrad.autograd.gradcheck(ops.box_iou, (a, b))


def test_clip_and_remove_small_boxes():
    boxes = minigrad.tensor([[-3.0, 2.0, 12.0, 40.0], [1.0, 1.0, 2.5, 9.0], [4, 5, 9, 7]])
    clipped = ops.clip_boxes_to_image(boxes, (30, 10))  # (height, width)
    assert clipped.tolist() == [[0.0, 2.0, 10.0, 30.0], [1.0, 1.0, 2.5, 9.0], [4, 5, 9, 7]]
    assert ops.remove_small_boxes(boxes, 2.0).tolist() == [0, 2]  # width 1.5 is too small
    assert ops.remove_small_boxes(boxes, 1.5).tolist() == [0, 1, 2]  # sides equal to it stay


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7])
def test_nms_matches_the_greedy_rule(threshold):
    rng = np.random.default_rng(3)
    boxes = _random_boxes(rng, 40, scale=12.0).astype(np.float32)
    scores = rng.integers(0, 6, 40).astype(np.float32)  # many equal scores
    labels = rng.integers(0, 3, 40)
    keep = ops.nms(minigrad.tensor(boxes), minigrad.tensor(scores), threshold)
    assert keep.dtype == minigrad.int64
    assert keep.tolist() == _nms_by_hand(boxes, scores, threshold)
    kept = ops.batched_nms(
        minigrad.tensor(boxes), minigrad.tensor(scores), minigrad.tensor(labels), threshold
    )
    assert kept.tolist() == _nms_by_hand(boxes, scores, threshold, labels)


def test_nms_ties_and_edge_cases():
    # IoU exactly 0.5: kept at threshold 0.5 (only a greater IoU suppresses), dropped below it.
    boxes = minigrad.tensor([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    assert ops.nms(boxes, minigrad.tensor([0.9, 0.8]), 0.5).tolist() == [0, 1]
    assert ops.nms(boxes, minigrad.tensor([0.9, 0.8]), 0.49).tolist() == [0]
    # The IoU is computed in the boxes' dtype and compared with the threshold as a double, as
    # torchvision's kernel: 3/10 in float32 is a little above 0.3, in float64 it is 0.3.
    pair = [[0.0, 0.0, 10.0, 1.0], [0.0, 0.0, 3.0, 1.0]]
    for dtype, kept in ((minigrad.float32, [0]), (minigrad.float64, [0, 1])):
        two = ops.nms(minigrad.tensor(pair, dtype=dtype), minigrad.tensor([2.0, 1.0]), 0.3)
        assert two.tolist() == kept
    # Equal scores: the lower index is visited first and wins.
    assert ops.nms(boxes, minigrad.tensor([0.7, 0.7]), 0.1).tolist() == [0]
    empty = ops.nms(minigrad.zeros(0, 4), minigrad.zeros(0), 0.5)
    assert empty.tolist() == [] and empty.dtype == minigrad.int64
    with pytest.raises(RuntimeError, match="boxes should have 4 elements in dimension 1"):
        ops.nms(minigrad.zeros(3, 5), minigrad.zeros(3), 0.5)
    with pytest.raises(RuntimeError, match="same number of elements in dimension 0"):
        ops.nms(minigrad.zeros(3, 4), minigrad.zeros(2), 0.5)


def test_distance_and_complete_box_iou():
    a = minigrad.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = minigrad.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0]])
    # IoU 1/7; centres (1, 1) and (2, 2): distance² 2 over the enclosing diagonal² 18.
    expected = [[1 / 7 - 2 / 18, 1.0]]
    np.testing.assert_allclose(ops.distance_box_iou(a, b).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(ops.complete_box_iou(a, b).numpy(), expected, rtol=1e-6)  # v = 0
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    p, g = _random_boxes(rng, 3) + 0.5, _random_boxes(rng, 2)
    ours = minigrad.tensor(p, requires_grad=True)
    theirs = torch.tensor(p, requires_grad=True)
    ciou = ops.complete_box_iou(ours, minigrad.tensor(g))
    tg = torch.tensor(g)  # CIoU in PyTorch, alpha held constant as the paper says
    lt = torch.max(theirs[:, None, :2], tg[None, :, :2])
    rb = torch.min(theirs[:, None, 2:], tg[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda t: (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])  # noqa: E731
    iou = inter / (area(theirs)[:, None] + area(tg)[None, :] - inter)
    hull = torch.max(theirs[:, None, 2:], tg[None, :, 2:]) - torch.min(
        theirs[:, None, :2], tg[None, :, :2]
    )
    centre = (theirs[:, None, :2] + theirs[:, None, 2:]) / 2 - (
        tg[None, :, :2] + tg[None, :, 2:]
    ) / 2
    diou = iou - (centre**2).sum(-1) / ((hull**2).sum(-1) + 1e-7)
    ratio = lambda t: torch.atan((t[..., 2] - t[..., 0]) / (t[..., 3] - t[..., 1]))  # noqa: E731
    v = 4 / torch.pi**2 * (ratio(theirs[:, None]) - ratio(tg[None])) ** 2
    alpha = (v / (1 - iou + v + 1e-7)).detach()
    expected = diou - alpha * v
    np.testing.assert_allclose(ciou.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
    ciou.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_masks_to_boxes():
    masks = minigrad.zeros(3, 4, 5)
    masks[0, 1:3, 2:5] = 1
    masks[1, 3, 0] = 1  # a single pixel: x1 == x2, y1 == y2
    boxes = ops.masks_to_boxes(masks)
    assert boxes.dtype == minigrad.float32
    assert boxes.tolist() == [[2, 1, 4, 2], [0, 3, 0, 3], [0, 0, 0, 0]]  # empty: zeros
    assert tuple(ops.masks_to_boxes(minigrad.zeros(0, 4, 5)).shape) == (0, 4)


def test_generalized_box_iou_loss_and_sigmoid_focal_loss():
    rng = np.random.default_rng(5)
    p, g = _random_boxes(rng, 4), _random_boxes(rng, 4)
    pm = minigrad.tensor(p, requires_grad=True)
    loss = ops.generalized_box_iou_loss(pm, minigrad.tensor(g))
    pair = ops.generalized_box_iou(minigrad.tensor(p), minigrad.tensor(g)).diagonal()
    np.testing.assert_allclose(loss.detach().numpy(), 1 - pair.numpy(), rtol=1e-6)
    ops.generalized_box_iou_loss(pm, minigrad.tensor(g), reduction="mean").backward()
    assert pm.grad is not None and np.isfinite(pm.grad.numpy()).all()
    empty = ops.generalized_box_iou_loss(minigrad.zeros(0, 4), minigrad.zeros(0, 4), "mean")
    assert empty.item() == 0.0
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'"):
        ops.generalized_box_iou_loss(pm, pm, reduction="avg")

    torch = pytest.importorskip("torch")
    logits = rng.standard_normal((3, 5))
    targets = (rng.random((3, 5)) > 0.5).astype(np.float64)
    x, t = minigrad.tensor(logits), minigrad.tensor(targets)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits), torch.tensor(targets), reduction="none"
    )  # gamma 0 and no alpha: plain binary cross-entropy
    no_focus = ops.sigmoid_focal_loss(x, t, alpha=-1, gamma=0)
    np.testing.assert_allclose(no_focus.numpy(), bce.numpy(), rtol=1e-12)
    p_t = torch.sigmoid(torch.tensor(logits)) * torch.tensor(targets)
    p_t = p_t + (1 - torch.sigmoid(torch.tensor(logits))) * (1 - torch.tensor(targets))
    weight = 0.25 * torch.tensor(targets) + 0.75 * (1 - torch.tensor(targets))
    expected = (weight * bce * (1 - p_t) ** 2).sum()
    np.testing.assert_allclose(ops.sigmoid_focal_loss(x, t, reduction="sum").item(), expected)
    with pytest.raises(ValueError, match="Invalid alpha value: 1.5"):
        ops.sigmoid_focal_loss(x, t, alpha=1.5)
