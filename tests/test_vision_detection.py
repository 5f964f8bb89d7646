"""minigrad.vision's detection stack (torchvision 0.28 cannot import here: its compiled ops):
RoI Align/Pool against straightforward loop re-implementations of torchvision's kernels in
PyTorch, their gradients (gradcheck, and PyTorch autograd through the loop version),
MultiScaleRoIAlign's level mapping, the FPN against a PyTorch twin with the same weights, the
detection bookkeeping (anchors, box coding, matching, seeded sampling as torchvision draws
with ``torch.randperm``), Faster/Mask R-CNN training and evaluation steps on tiny models, and
parameter counts equal to torchvision's published ``num_params``."""

import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.vision import ops
from minigrad.vision.models import detection
from minigrad.vision.models.detection import _utils as det_utils
from minigrad.vision.models.detection.anchor_utils import AnchorGenerator
from minigrad.vision.models.detection.backbone_utils import BackboneWithFPN
from minigrad.vision.models.detection.faster_rcnn import (
    FastRCNNConvFCHead,
    FastRCNNPredictor,
    TwoMLPHead,
)
from minigrad.vision.models.detection.mask_rcnn import MaskRCNNPredictor

ROIS = [
    [0, 1.2, 0.5, 7.7, 8.1],
    [1, -3.0, -2.0, 14.0, 13.0],  # reaches outside the map
    [1, 5.0, 5.0, 5.3, 5.2],  # smaller than a pixel
    [0, 11.0, 9.0, 30.0, 20.0],  # mostly outside
    [1, 2.5, 1.5, 6.0, 6.0],
]


# --- loop re-implementations of torchvision's CPU kernels (roi_align_kernel.cpp, roi_pool) ---
def _bilinear(img, y, x):
    c, h, w = img.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return img.new_zeros(c)
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    if y0 >= h - 1:
        y0 = y1 = h - 1
        y = float(y0)
    if x0 >= w - 1:
        x0 = x1 = w - 1
        x = float(x0)
    ly, lx = y - y0, x - x0
    return (
        (1 - ly) * (1 - lx) * img[:, y0, x0]
        + (1 - ly) * lx * img[:, y0, x1]
        + ly * (1 - lx) * img[:, y1, x0]
        + ly * lx * img[:, y1, x1]
    )


def _roi_align_loops(torch, x, rois, out, scale, ratio, aligned):
    ph, pw = out
    offset = 0.5 if aligned else 0.0
    results = []
    for r in rois:
        img = x[int(r[0])]
        x1, y1, x2, y2 = (v * scale - offset for v in r[1:])
        w, h = x2 - x1, y2 - y1
        if not aligned:
            w, h = max(w, 1.0), max(h, 1.0)
        gh = ratio if ratio > 0 else math.ceil(h / ph)
        gw = ratio if ratio > 0 else math.ceil(w / pw)
        bins = []
        for i in range(ph):
            for j in range(pw):
                acc = x.new_zeros(x.shape[1])
                for iy in range(gh):
                    yy = y1 + i * h / ph + (iy + 0.5) * h / ph / gh
                    for ix in range(gw):
                        acc = acc + _bilinear(img, yy, x1 + j * w / pw + (ix + 0.5) * w / pw / gw)
                bins.append(acc / max(gh * gw, 1))
        results.append(torch.stack(bins, -1).reshape(-1, ph, pw))
    return torch.stack(results)


def _roi_pool_loops(torch, x, rois, out, scale):
    ph, pw = out
    _, c, height, width = x.shape

    def c_round(v):
        return int(math.copysign(math.floor(abs(v) + 0.5), v))

    results = []
    for r in rois:
        img = x[int(r[0])]
        sw, sh, ew, eh = (c_round(v * scale) for v in r[1:])
        bh, bw = max(eh - sh + 1, 1) / ph, max(ew - sw + 1, 1) / pw
        bins = []
        for i in range(ph):
            for j in range(pw):
                hs = min(max(math.floor(i * bh) + sh, 0), height)
                he = min(max(math.ceil((i + 1) * bh) + sh, 0), height)
                ws = min(max(math.floor(j * bw) + sw, 0), width)
                we = min(max(math.ceil((j + 1) * bw) + sw, 0), width)
                empty = he <= hs or we <= ws
                bins.append(x.new_zeros(c) if empty else img[:, hs:he, ws:we].amax(dim=(1, 2)))
        results.append(torch.stack(bins, -1).reshape(-1, ph, pw))
    return torch.stack(results)


def _ps_roi_align_loops(torch, x, rois, out, scale, ratio):
    ph, pw = out
    results = []
    for r in rois:
        img = x[int(r[0])]
        x1, y1, x2, y2 = (v * scale - 0.5 for v in r[1:])
        w, h = x2 - x1, y2 - y1
        gh = ratio if ratio > 0 else math.ceil(h / ph)
        gw = ratio if ratio > 0 else math.ceil(w / pw)
        bins = []
        for c in range(x.shape[1] // (ph * pw)):
            for i in range(ph):
                for j in range(pw):
                    plane = img[(c * ph + i) * pw + j][None]
                    acc = x.new_zeros(1)
                    for iy in range(gh):
                        yy = y1 + i * h / ph + (iy + 0.5) * h / ph / gh
                        for ix in range(gw):
                            xx = x1 + j * w / pw + (ix + 0.5) * w / pw / gw
                            acc = acc + _bilinear(plane, yy, xx)
                    bins.append(acc[0] / (gh * gw))
        results.append(torch.stack(bins).reshape(-1, ph, pw))
    return torch.stack(results)


def _ps_roi_pool_loops(torch, x, rois, out, scale):
    ph, pw = out
    height, width = x.shape[2:]
    results = []
    for r in rois:
        img = x[int(r[0])]
        sw, sh, ew, eh = (int(math.copysign(math.floor(abs(v * scale) + 0.5), v)) for v in r[1:])
        bh, bw = max(eh - sh, 1) / ph, max(ew - sw, 1) / pw
        bins = []
        for c in range(x.shape[1] // (ph * pw)):
            for i in range(ph):
                for j in range(pw):
                    hs = min(max(math.floor(i * bh) + sh, 0), height - 1)
                    he = min(max(math.ceil((i + 1) * bh) + sh, 0), height - 1)
                    ws = min(max(math.floor(j * bw) + sw, 0), width - 1)
                    we = min(max(math.ceil((j + 1) * bw) + sw, 0), width - 1)
                    plane = img[(c * ph + i) * pw + j]
                    empty = he <= hs or we <= ws
                    bins.append(x.new_zeros(()) if empty else plane[hs:he, ws:we].mean())
        results.append(torch.stack(bins).reshape(-1, ph, pw))
    return torch.stack(results)


@pytest.fixture(scope="module")
def features():
    return np.random.default_rng(0).standard_normal((2, 3, 10, 12))


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("ratio,scale", [(-1, 1.0), (2, 0.5), (0, 0.5), (3, 1.0)])
def test_roi_align_matches_kernel_loops(features, aligned, ratio, scale):
    torch = pytest.importorskip("torch")
    expected = _roi_align_loops(torch, torch.tensor(features), ROIS, (3, 4), scale, ratio, aligned)
    got = ops.roi_align(
        minigrad.tensor(features),
        minigrad.tensor(ROIS, dtype=minigrad.float64),
        (3, 4),
        scale,
        ratio,
        aligned,
    )
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_roi_align_list_boxes_module_and_float32(features):
    rois = minigrad.tensor(ROIS, dtype=minigrad.float64)
    per_image = [rois[rois[:, 0] == i][:, 1:] for i in range(2)]
    x = minigrad.tensor(features)
    by_list = ops.roi_align(x, per_image, 2, 0.5, 2, True)
    order = np.argsort(np.array(ROIS)[:, 0], kind="stable")
    np.testing.assert_allclose(
        by_list.numpy(), ops.roi_align(x, rois[order], 2, 0.5, 2, True).numpy()
    )
    module = ops.RoIAlign((2, 2), spatial_scale=0.5, sampling_ratio=2, aligned=True)
    np.testing.assert_allclose(module(x, per_image).numpy(), by_list.numpy())
    with pytest.raises(RuntimeError, match="same type"):
        ops.roi_align(x.float(), per_image, 2)  # float32 features, float64 boxes
    single = ops.roi_align(x.float(), [b.float() for b in per_image], 2, 0.5, 2, True)
    assert single.dtype == minigrad.float32
    np.testing.assert_allclose(single.numpy(), by_list.numpy(), rtol=1e-5, atol=1e-6)
    assert "aligned=True" in repr(module)
    with pytest.raises(RuntimeError, match=r"Tensor\[K, 5\]"):
        ops.roi_align(x, rois[:, 1:], 2)


def test_roi_align_hand_value():
    x = minigrad.arange(16.0).reshape(1, 1, 4, 4)
    # aligned: the box [0, 2]² covers pixel centres 0..1; one sample at its centre (0.5, 0.5)
    out = ops.roi_align(x, [minigrad.tensor([[0.0, 0.0, 2.0, 2.0]])], 1, aligned=True)
    assert out.item() == pytest.approx((0 + 1 + 4 + 5) / 4)


def test_roi_align_gradcheck(features):
    x = minigrad.tensor(features[:, :1, :4, :5], requires_grad=True)
    rois = minigrad.tensor(
        [[0, 0.5, 0.2, 3.5, 2.8], [1, -1.0, 1.0, 3.0, 5.0]], dtype=minigrad.float64
    )
    assert minigrad.autograd.gradcheck(
        lambda t: ops.roi_align(t, rois, (2, 3), 1.0, -1, True), (x,)
    )
    assert minigrad.autograd.gradgradcheck(lambda t: ops.roi_align(t, rois, 2, 1.0, 2) ** 2, (x,))


def test_roi_pool_matches_kernel_loops_and_its_gradient(features):
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(1).standard_normal((len(ROIS), 3, 3, 4))
    for scale in (1.0, 0.5):
        xt = torch.tensor(features, requires_grad=True)
        expected = _roi_pool_loops(torch, xt, ROIS, (3, 4), scale)
        (expected * torch.tensor(g)).sum().backward()
        x = minigrad.tensor(features, requires_grad=True)
        got = ops.RoIPool((3, 4), scale)(x, minigrad.tensor(ROIS, dtype=minigrad.float64))
        (got * minigrad.tensor(g)).sum().backward()
        np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    x = minigrad.tensor(features[:1, :1, :5, :5], requires_grad=True)
    rois = minigrad.tensor([[0, 0.0, 0.0, 4.0, 3.0]], dtype=minigrad.float64)
    assert minigrad.autograd.gradcheck(lambda t: ops.roi_pool(t, rois, 2), (x,))


def test_position_sensitive_ops_match_kernel_loops():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 8, 7, 9))  # 2 output channels × 2×2 bins
    g = rng.standard_normal((len(ROIS), 2, 2, 2))
    rois = minigrad.tensor(ROIS, dtype=minigrad.float64)
    for ratio, scale in ((2, 1.0), (-1, 0.5)):
        expected = _ps_roi_align_loops(torch, torch.tensor(x), ROIS, (2, 2), scale, ratio)
        got = ops.PSRoIAlign(2, scale, ratio)(minigrad.tensor(x), rois)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    for scale in (1.0, 0.5):
        xt = torch.tensor(x, requires_grad=True)
        expected = _ps_roi_pool_loops(torch, xt, ROIS, (2, 2), scale)
        (expected * torch.tensor(g)).sum().backward()
        xm = minigrad.tensor(x, requires_grad=True)
        got = ops.PSRoIPool((2, 2), scale)(xm, rois)
        (got * minigrad.tensor(g)).sum().backward()
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    small = minigrad.tensor(x[:1, :4, :4, :4], requires_grad=True)
    box = minigrad.tensor([[0, 0.3, 0.6, 3.2, 2.9]], dtype=minigrad.float64)
    assert minigrad.autograd.gradcheck(lambda t: ops.ps_roi_align(t, box, 2, 1.0, 2), (small,))
    with pytest.raises(RuntimeError, match="multiple of pooling height"):
        ops.ps_roi_align(minigrad.tensor(x[:, :6]), rois, 2)


def test_multiscale_roi_align_levels():
    rng = np.random.default_rng(2)
    feats = OrderedDict(
        feat1=minigrad.tensor(rng.standard_normal((1, 2, 32, 32))),
        feat2=minigrad.tensor(rng.standard_normal((1, 2, 16, 16))),
        feat3=minigrad.tensor(rng.standard_normal((1, 2, 8, 8))),
    )
    # sqrt(area) 20, 100, 400 → FPN level floor(4 + log2(s / 224)) clamped to [2, 4]
    boxes = minigrad.tensor(
        [[0.0, 0.0, 100.0, 100.0], [10.0, 10.0, 30.0, 30.0], [0, 0, 400, 400.0]],
        dtype=minigrad.float64,
    )
    pool = ops.MultiScaleRoIAlign(["feat1", "feat3"], 3, 2)
    out = pool(feats, [boxes], [(128, 128)])
    assert pool.scales == [0.25, 0.0625]
    levels = pool.map_levels([boxes])
    # FPN levels 3, 2 (clamped) and 4 (the maps are levels 2 and 4), less k_min = 2; a box
    # at a level with no map in the list is left at zero, as torchvision's loop leaves it
    assert levels.tolist() == [0, 0, 2]
    for i in (0, 1):
        expected = ops.roi_align(feats["feat1"], [boxes[i : i + 1]], 3, 0.25, 2)
        np.testing.assert_allclose(out[i : i + 1].numpy(), expected.numpy())
    assert out[2].abs().sum().item() == 0
    pool = ops.MultiScaleRoIAlign(["feat1", "feat2"], 3, 2)  # levels 2 and 3: k_max clamps
    out = pool(feats, [boxes], [(128, 128)])
    assert pool.map_levels([boxes]).tolist() == [0, 0, 1]
    for i, (name, scale) in enumerate([("feat1", 0.25), ("feat1", 0.25), ("feat2", 0.125)]):
        expected = ops.roi_align(feats[name], [boxes[i : i + 1]], 3, scale, 2)
        np.testing.assert_allclose(out[i : i + 1].numpy(), expected.numpy())
    assert "featmap_names=['feat1', 'feat2']" in repr(pool)


def test_feature_pyramid_network_matches_pytorch_twin():
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    fpn = ops.FeaturePyramidNetwork(
        [4, 6], 5, extra_blocks=ops.feature_pyramid_network.LastLevelMaxPool()
    )
    assert list(fpn.state_dict()) == [
        f"{kind}_blocks.{i}.0.{p}"
        for kind in ("inner", "layer")
        for i in (0, 1)
        for p in ("weight", "bias")
    ]
    rng = np.random.default_rng(3)
    c1, c2 = rng.standard_normal((1, 4, 8, 8)), rng.standard_normal((1, 6, 3, 3))
    out = fpn(OrderedDict(a=minigrad.tensor(c1).float(), b=minigrad.tensor(c2).float()))
    w = {k: torch.tensor(v.numpy()) for k, v in fpn.state_dict().items()}

    def conv(x, block, i, pad):
        return tF.conv2d(
            x, w[f"{block}_blocks.{i}.0.weight"], w[f"{block}_blocks.{i}.0.bias"], padding=pad
        )

    inner2 = conv(torch.tensor(c2).float(), "inner", 1, 0)
    inner1 = conv(torch.tensor(c1).float(), "inner", 0, 0) + tF.interpolate(inner2, size=(8, 8))
    p1, p2 = conv(inner1, "layer", 0, 1), conv(inner2, "layer", 1, 1)
    assert list(out) == ["a", "b", "pool"]
    for got, want in zip(out.values(), (p1, p2, p2[:, :, ::2, ::2])):
        np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="in_channels=0"):
        ops.FeaturePyramidNetwork([0, 4], 5)


def test_anchor_generator_values():
    gen = AnchorGenerator(((32,), (64,)), ((0.5, 1.0, 2.0),) * 2)
    assert gen.num_anchors_per_location() == [3, 3]
    # torchvision's formula: w = size / sqrt(ratio), h = size * sqrt(ratio), halves, rounded
    ratios = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    w, h = 32 / np.sqrt(ratios), 32 * np.sqrt(ratios)
    expected = np.round(np.stack([-w, -h, w, h], 1) / 2)
    np.testing.assert_array_equal(gen.cell_anchors[0].numpy(), expected)
    images = detection.image_list.ImageList(minigrad.zeros(2, 3, 32, 48), [(32, 48), (30, 40)])
    maps = [minigrad.zeros(2, 1, 4, 6), minigrad.zeros(2, 1, 2, 3)]
    anchors = gen(images, maps)
    assert len(anchors) == 2 and anchors[0].shape == (4 * 6 * 3 + 2 * 3 * 3, 4)
    # cell (row 1, column 2) of the first map, stride 8: shift (16, 8), its three anchors
    np.testing.assert_array_equal(
        anchors[0][(1 * 6 + 2) * 3 : (1 * 6 + 2) * 3 + 3].numpy(), expected + [16, 8, 16, 8]
    )


def test_box_coder_round_trip_and_formula():
    coder = det_utils.BoxCoder((10.0, 10.0, 5.0, 5.0))
    proposals = minigrad.tensor(
        [[0.0, 0.0, 10.0, 20.0], [5.0, 5.0, 9.0, 7.0]], dtype=minigrad.float64
    )
    gt = minigrad.tensor([[1.0, 2.0, 13.0, 18.0], [4.0, 5.0, 10.0, 9.0]], dtype=minigrad.float64)
    codes = coder.encode([gt], [proposals])[0]
    # first pair: centres (5, 10) → (7, 10), sizes (10, 20) → (12, 16)
    np.testing.assert_allclose(
        codes[0].numpy(), [10 * 2 / 10, 0, 5 * math.log(1.2), 5 * math.log(0.8)]
    )
    np.testing.assert_allclose(coder.decode(codes, [proposals])[:, 0].numpy(), gt.numpy())


def test_matcher_thresholds_and_low_quality_matches():
    iou = minigrad.tensor([[0.9, 0.5, 0.1, 0.2], [0.1, 0.65, 0.2, 0.25]])
    assert det_utils.Matcher(0.7, 0.3)(iou).tolist() == [0, -2, -1, -1]
    # each ground truth's best prediction is matched whatever its IoU
    assert det_utils.Matcher(0.7, 0.3, True)(iou).tolist() == [0, 1, -1, -1]
    with pytest.raises(ValueError, match="No ground-truth boxes"):
        det_utils.Matcher(0.7, 0.3)(minigrad.zeros(0, 3))


def test_sampler_draws_as_torchvision():
    torch = pytest.importorskip("torch")
    labels = np.array([1, 0, -1, 0, 2, 0, 0, 1, 0, 0, 1, 0])
    minigrad.manual_seed(7)
    pos, neg = det_utils.BalancedPositiveNegativeSampler(6, 0.5)([minigrad.tensor(labels)])
    torch.manual_seed(7)  # torchvision's draws: positives' permutation first, then negatives'
    positive, negative = np.where(labels >= 1)[0], np.where(labels == 0)[0]
    want_pos = positive[torch.randperm(len(positive))[:3].numpy()]
    want_neg = negative[torch.randperm(len(negative))[:3].numpy()]
    assert sorted(np.where(pos[0].numpy())[0]) == sorted(want_pos)
    assert sorted(np.where(neg[0].numpy())[0]) == sorted(want_neg)
    assert pos[0].dtype == minigrad.uint8


def _tiny_faster_rcnn(cls=detection.FasterRCNN, box_head=None, **extra):
    """A Faster R-CNN small enough for a unit test: a 3-convolution backbone with a 2-level
    FPN (plus its pool level), 64-pixel images, few proposals."""
    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
        )
    )
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1"}, [8, 16], 8)
    return cls(
        backbone,
        min_size=64,
        max_size=64,
        rpn_anchor_generator=AnchorGenerator(((16,), (32,), (64,)), ((0.5, 1.0, 2.0),) * 3),
        box_roi_pool=ops.MultiScaleRoIAlign(["0", "1"], 7, 2),
        box_head=box_head or TwoMLPHead(8 * 49, 32),
        rpn_pre_nms_top_n_train=50,
        rpn_post_nms_top_n_train=20,
        rpn_pre_nms_top_n_test=50,
        rpn_post_nms_top_n_test=20,
        rpn_batch_size_per_image=32,
        box_batch_size_per_image=16,
        box_score_thresh=0.0,
        **extra,
    )


def _targets(masks=False):
    targets = [
        {
            "boxes": minigrad.tensor([[4.0, 6.0, 30.0, 40.0], [20.0, 10.0, 60.0, 50.0]]),
            "labels": minigrad.tensor([1, 2]),
        },
        {"boxes": minigrad.tensor([[10.0, 5.0, 40.0, 30.0]]), "labels": minigrad.tensor([2])},
    ]
    if masks:
        for t, (h, w) in zip(targets, [(64, 64), (48, 64)]):
            m = np.zeros((len(t["boxes"]), h, w), dtype=np.uint8)
            for i, (x1, y1, x2, y2) in enumerate(t["boxes"].tolist()):
                m[i, int(y1) : int(y2), int(x1) : int(x2)] = 1
            t["masks"] = minigrad.tensor(m)
    return targets


def test_faster_rcnn_train_step_and_eval_output():
    minigrad.manual_seed(0)
    # the tutorial's move: a new box predictor for its own number of classes
    model = _tiny_faster_rcnn(box_predictor=FastRCNNPredictor(32, 3))
    images = [minigrad.rand(3, 64, 64), minigrad.rand(3, 48, 64)]
    model.train()
    losses = model(images, _targets())
    assert set(losses) == {"loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"}
    assert all(np.isfinite(v.item()) and v.item() >= 0 for v in losses.values())
    sum(losses.values()).backward()
    stem = model.backbone.body.stem.weight.grad
    assert stem is not None and stem.abs().sum().item() > 0  # backward reaches the backbone
    assert model.roi_heads.box_predictor.bbox_pred.weight.grad.abs().sum().item() > 0
    model.eval()
    with minigrad.no_grad():
        out = model(images)
    assert len(out) == 2
    for det, (h, w) in zip(out, [(64, 64), (48, 64)]):
        assert set(det) == {"boxes", "labels", "scores"}
        n = det["boxes"].shape[0]
        assert det["boxes"].shape == (n, 4) and det["labels"].dtype == minigrad.int64
        assert det["scores"].shape == (n,) and det["labels"].shape == (n,)
        boxes = det["boxes"].numpy()
        assert (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all() and (boxes >= 0).all()
        assert set(det["labels"].tolist()) <= {1, 2}
        assert (np.diff(det["scores"].numpy()) <= 0).all()  # best first
    with pytest.raises(ValueError, match="positive height and width"):
        model.train()
        model(
            [images[0]],
            [{"boxes": minigrad.tensor([[5.0, 5.0, 5.0, 9.0]]), "labels": minigrad.tensor([1])}],
        )


def test_mask_rcnn_train_step_and_eval_masks():
    minigrad.manual_seed(1)
    model = _tiny_faster_rcnn(
        detection.MaskRCNN,
        box_predictor=FastRCNNPredictor(32, 3),
        mask_roi_pool=ops.MultiScaleRoIAlign(["0", "1"], 6, 2),
        box_head=FastRCNNConvFCHead((8, 7, 7), [8], [32], norm_layer=nn.BatchNorm2d),  # v2's
        mask_head=detection.mask_rcnn.MaskRCNNHeads(8, (8,), 1, norm_layer=nn.BatchNorm2d),
        mask_predictor=MaskRCNNPredictor(8, 8, 3),
    )
    images = [minigrad.rand(3, 64, 64), minigrad.rand(3, 48, 64)]
    model.train()
    losses = model(images, _targets(masks=True))
    assert "loss_mask" in losses and np.isfinite(losses["loss_mask"].item())
    sum(losses.values()).backward()
    assert model.roi_heads.mask_predictor.conv5_mask.weight.grad is not None
    model.eval()
    with minigrad.no_grad():
        out = model(images)
    masks = out[1]["masks"]
    assert masks.shape == (out[1]["boxes"].shape[0], 1, 48, 64)
    assert 0 <= masks.min().item() and masks.max().item() <= 1


def test_parameter_counts_equal_torchvision():
    """torchvision 0.28's weight metadata: ``num_params`` 41,755,286 (Faster R-CNN) and
    44,401,393 (Mask R-CNN), counted on the pretrained models whose backbone norms are
    ``FrozenBatchNorm2d`` buffers; built without weights, the norms are ``BatchNorm2d``
    parameters, so they are left out of the count. The figure is also summed here from the
    architecture."""
    resnet50_convs = 25_557_032 - 2_049_000 - 53_120  # resnet50 less fc and its norms
    fpn = sum(c * 256 + 256 for c in (256, 512, 1024, 2048)) + 4 * (256 * 256 * 9 + 256)
    rpn = (256 * 256 * 9 + 256) + (256 * 3 + 3) + (256 * 12 + 12)
    box_head = (256 * 49 * 1024 + 1024) + (1024 * 1024 + 1024)
    predictor = (1024 * 91 + 91) + (1024 * 91 * 4 + 91 * 4)
    assert resnet50_convs + fpn + rpn + box_head + predictor == 41_755_286
    mask_branch = 4 * (256 * 256 * 9 + 256) + (256 * 256 * 4 + 256) + (256 * 91 + 91)
    # state dict entries of torchvision's models (checked with torchvision's Python code by
    # scripts/check_detection_against_torchvision.py's loader: keys, order and shapes agree)
    for builder, expected, entries in (
        (detection.fasterrcnn_resnet50_fpn, 41_755_286, 348),
        (detection.maskrcnn_resnet50_fpn, 41_755_286 + mask_branch, 360),
    ):
        with minigrad.device("meta"):  # no initialisation: only the shapes are counted
            model = builder(weights=None, weights_backbone=None)
        assert len(model.state_dict()) == entries
        norms = {
            id(p) for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
        }
        assert sum(p.numel() for p in model.parameters() if id(p) not in norms) == expected
    assert expected == 44_401_393
    # the v2 recipe keeps BatchNorm2d everywhere, so its num_params counts them
    for builder, expected, entries in (
        (detection.fasterrcnn_resnet50_fpn_v2, 43_712_278, 404),
        (detection.maskrcnn_resnet50_fpn_v2, 46_359_409, 432),
    ):
        with minigrad.device("meta"):
            v2 = builder(num_classes=91)  # weights_backbone defaults to None in v2
        assert sum(p.numel() for p in v2.parameters()) == expected
        assert len(v2.state_dict()) == entries
    assert model.roi_heads.box_predictor.cls_score.in_features == 1024
    assert model.roi_heads.mask_predictor.conv5_mask.in_channels == 256


def test_registry_lists_the_detection_builders():
    from minigrad.vision import models

    names = [
        "fasterrcnn_mobilenet_v3_large_320_fpn",
        "fasterrcnn_mobilenet_v3_large_fpn",
        "fasterrcnn_resnet50_fpn",
        "fasterrcnn_resnet50_fpn_v2",
        "fcos_resnet50_fpn",
        "keypointrcnn_resnet50_fpn",
        "maskrcnn_resnet50_fpn",
        "maskrcnn_resnet50_fpn_v2",
        "retinanet_resnet50_fpn",
        "retinanet_resnet50_fpn_v2",
        "ssd300_vgg16",
        "ssdlite320_mobilenet_v3_large",
    ]
    assert models.list_models(module=detection) == names
    assert set(names) <= set(models.list_models())
    assert models.get_model_weights("maskrcnn_resnet50_fpn").DEFAULT.name == "COCO_V1"


def test_weights_and_missing_models_raise():
    with pytest.raises(RuntimeError, match="no pretrained weights"):
        detection.fasterrcnn_resnet50_fpn(weights="DEFAULT")
    with pytest.raises(RuntimeError, match="weights_backbone=None"):
        detection.fasterrcnn_resnet50_fpn(num_classes=2)  # torchvision's default backbone weights
    with pytest.raises(ValueError, match="num_classes should not be None"):
        detection.FasterRCNN(
            BackboneWithFPN(
                nn.Sequential(OrderedDict(layer1=nn.Conv2d(3, 4, 1))), {"layer1": "0"}, [4], 4
            )
        )
