"""minigrad.vision's one-stage and keypoint detectors (RetinaNet, FCOS, Keypoint R-CNN):
builders whose state dicts have torchvision's keys and parameter counts, tiny models' training
steps (finite losses that fall) and evaluation outputs. The exact match with torchvision's
code (losses, gradients, detections) is scripts/check_detection_against_torchvision.py."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.vision import ops
from minigrad.vision.models import detection
from minigrad.vision.models.detection.anchor_utils import AnchorGenerator
from minigrad.vision.models.detection.backbone_utils import BackboneWithFPN
from minigrad.vision.ops.feature_pyramid_network import LastLevelP6P7


def _tiny_backbone(extra_blocks=None, channels=8):
    """Three strided convolutions and a two-level FPN of ``channels`` channels (plus
    ``extra_blocks``)."""
    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
        )
    )
    return BackboneWithFPN(
        body, {"layer1": "0", "layer2": "1"}, [8, 16], channels, extra_blocks=extra_blocks
    )


def _targets():
    return [
        {
            "boxes": minigrad.tensor([[4.0, 6.0, 30.0, 40.0], [20.0, 10.0, 60.0, 50.0]]),
            "labels": minigrad.tensor([1, 2]),
        },
        {"boxes": minigrad.tensor([[10.0, 5.0, 40.0, 30.0]]), "labels": minigrad.tensor([2])},
    ]


def _train_steps(model, images, steps=3, lr=0.01):
    """The summed losses of ``steps`` SGD steps on the same batch (they must fall)."""
    optimizer = minigrad.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    totals = []
    for _ in range(steps):
        losses = model(images, _targets())
        total = sum(losses.values())
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        totals.append(total.item())
    return losses, totals


def _check_detections(out, sizes, labels) -> None:
    assert len(out) == len(sizes)
    for det, (h, w) in zip(out, sizes):
        assert set(det) >= {"boxes", "labels", "scores"}
        n = det["boxes"].shape[0]
        assert n > 0 and det["boxes"].shape == (n, 4) and det["scores"].shape == (n,)
        assert det["labels"].dtype == minigrad.int64 and set(det["labels"].tolist()) <= labels
        boxes = det["boxes"].numpy()
        assert (boxes >= 0).all() and (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()
        assert (np.diff(det["scores"].numpy()) <= 0).all()  # best first


def _meta_counts(builder, **kwargs):
    """State dict entries and parameter count of a full-size model, built on the meta device
    (shapes only, no initialisation)."""
    with minigrad.device("meta"):
        model = builder(weights=None, weights_backbone=None, **kwargs)
    return len(model.state_dict()), sum(p.numel() for p in model.parameters())


# Figures read from torchvision 0.28's builders (weights=None, weights_backbone=None, on the
# meta device; /tmp/detect19/tvcounts.py loaded torchvision's Python code as the check script
# does): state dict entries and parameter counts (norms included). Their state dict keys and
# shapes equal ours, key for key, in the same run.
TORCHVISION_COUNTS = {
    "retinanet_resnet50_fpn": (354, 34_068_119),
    "retinanet_resnet50_fpn_v2": (362, 38_198_935),
    "fcos_resnet50_fpn": (372, 32_322_720),
    "keypointrcnn_resnet50_fpn": (366, 59_190_378),
    "ssd300_vgg16": (71, 35_641_826),  # also torchvision's num_params metadata
    "ssdlite320_mobilenet_v3_large": (476, 3_440_060),  # likewise
}


@pytest.mark.parametrize(
    "name", sorted(set(TORCHVISION_COUNTS) - {"ssdlite320_mobilenet_v3_large"})
)
def test_builders_match_torchvision_counts(name):
    assert _meta_counts(getattr(detection, name)) == TORCHVISION_COUNTS[name]


@pytest.mark.parametrize(
    "name, num_params",
    [
        ("retinanet_resnet50_fpn", 34_014_999),
        ("fcos_resnet50_fpn", 32_269_600),
        ("keypointrcnn_resnet50_fpn", 59_137_258),
    ],
)
def test_v1_counts_match_torchvision_metadata(name, num_params):
    """torchvision's weight metadata (``num_params``) counts the pretrained models, whose
    ResNet norms are FrozenBatchNorm2d buffers: ours less the backbone's norm parameters is
    that figure."""
    with minigrad.device("meta"):
        model = getattr(detection, name)(weights=None, weights_backbone=None)
    norms = sum(
        p.numel()
        for m in model.backbone.body.modules()
        if isinstance(m, nn.BatchNorm2d)
        for p in m.parameters()
    )
    assert sum(p.numel() for p in model.parameters()) - norms == num_params


def _tiny_retinanet(v2=False):
    backbone = _tiny_backbone(LastLevelP6P7(16 if v2 else 8, 8))
    sizes = tuple((s, int(s * 2 ** (1 / 3)), int(s * 2 ** (2 / 3))) for s in (8, 16, 32, 64))
    anchors = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 4)
    norm = (lambda c: nn.GroupNorm(4, c)) if v2 else None
    head = detection.retinanet.RetinaNetHead(8, 9, 3, norm_layer=norm)
    if v2:
        head.regression_head._loss_type = "giou"
    return detection.RetinaNet(
        backbone,
        3,
        min_size=64,
        max_size=64,
        anchor_generator=anchors,
        head=head,
        score_thresh=0.0,
        topk_candidates=20,
        detections_per_img=10,
    )


@pytest.mark.parametrize("v2", [False, True])
def test_retinanet_trains_and_detects(v2):
    minigrad.manual_seed(0)
    model = _tiny_retinanet(v2)
    images = [minigrad.rand(3, 64, 64), minigrad.rand(3, 48, 64)]
    losses, totals = _train_steps(model, images, steps=2, lr=0.02)
    assert set(losses) == {"classification", "bbox_regression"}
    assert all(np.isfinite(t) for t in totals) and totals[-1] < totals[0]
    model.eval()
    with minigrad.no_grad():
        out = model(images)
    _check_detections(out, [(64, 64), (48, 64)], {0, 1, 2})
    assert out[0]["boxes"].shape[0] <= 10


def test_retinanet_empty_target_is_all_background():
    minigrad.manual_seed(0)
    model = _tiny_retinanet()
    model.train()
    empty = {"boxes": minigrad.zeros((0, 4)), "labels": minigrad.zeros((0,), dtype=minigrad.int64)}
    losses = model([minigrad.rand(3, 64, 64)], [empty])
    assert losses["bbox_regression"].item() == 0.0 and losses["classification"].item() > 0


def test_retinanet_builder_recipes():
    with minigrad.device("meta"):
        v1 = detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None)
        v2 = detection.retinanet_resnet50_fpn_v2(num_classes=5)
    assert v1.head.regression_head._loss_type == "l1" and v1.backbone.fpn.extra_blocks.use_P5
    assert v2.head.regression_head._loss_type == "giou"
    assert not v2.backbone.fpn.extra_blocks.use_P5  # P6 from C5
    assert isinstance(v2.head.classification_head.conv[0][1], nn.GroupNorm)
    assert v1.anchor_generator.sizes[0] == (32, 40, 50)
    assert v2.head.classification_head.cls_logits.out_channels == 9 * 5


def _tiny_fcos():
    backbone = _tiny_backbone(LastLevelP6P7(32, 32), channels=32)  # 32 for GroupNorm(32)
    anchors = AnchorGenerator(((4,), (8,), (16,), (32,)), ((1.0,),) * 4)
    head = detection.fcos.FCOSHead(32, 1, 3, num_convs=1)
    return detection.FCOS(
        backbone,
        3,
        min_size=64,
        max_size=64,
        anchor_generator=anchors,
        head=head,
        center_sampling_radius=2.5,
        score_thresh=0.0,
        topk_candidates=20,
        detections_per_img=10,
    )


def test_fcos_trains_and_detects():
    minigrad.manual_seed(0)
    model = _tiny_fcos()
    images = [minigrad.rand(3, 64, 64), minigrad.rand(3, 48, 64)]
    losses, totals = _train_steps(model, images, steps=2, lr=0.02)
    assert set(losses) == {"classification", "bbox_regression", "bbox_ctrness"}
    assert all(np.isfinite(t) for t in totals) and totals[-1] < totals[0]
    model.eval()
    with minigrad.no_grad():
        out = model(images)
    _check_detections(out, [(64, 64), (48, 64)], {0, 1, 2})
    with pytest.raises(ValueError, match="should be 1"):
        detection.FCOS(_tiny_backbone(), 3, anchor_generator=AnchorGenerator(((8, 16),), ((1.0,),)))


def test_fcos_matching_and_centerness():
    """A location matches a box when its centre lies inside the box, near the box's centre
    and its largest edge distance suits the level; the smaller box wins an overlap."""
    model = _tiny_fcos()
    # two levels of stride 8 and 16: four cells of 8 px, one of 16 px
    anchors = minigrad.tensor(
        [[0, 0, 8, 8], [8, 0, 16, 8], [0, 8, 8, 16], [8, 8, 16, 16], [0, 0, 16, 16]],
        dtype=minigrad.float32,
    )
    gt = minigrad.tensor([[0.0, 0.0, 16.0, 16.0], [2.0, 2.0, 10.0, 10.0]])
    matched = model.match(anchors, gt, [4, 1])
    # cell (4, 4) lies in both boxes: the smaller (index 1) wins; cells (12, 4), (4, 12),
    # (12, 12) lie in box 0 only; the coarse cell's largest edge distance (8) is under its
    # level's lower bound (4 strides = 64): background
    assert matched.tolist() == [1, 0, 0, 0, -1]
    targets = detection._utils.BoxLinearCoder().encode(anchors[:1], gt[1:])
    assert np.allclose(targets.numpy(), [[0.25, 0.25, 0.75, 0.75]])
    ctr = detection.fcos._centerness(targets)
    assert np.allclose(ctr.numpy(), [1 / 3])


def _tiny_keypoint_rcnn():
    from minigrad.vision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from minigrad.vision.models.detection.keypoint_rcnn import (
        KeypointRCNNHeads,
        KeypointRCNNPredictor,
    )

    return detection.KeypointRCNN(
        _tiny_backbone(),
        min_size=64,
        max_size=64,
        rpn_anchor_generator=AnchorGenerator(((16,), (32,), (64,)), ((0.5, 1.0, 2.0),) * 3),
        box_roi_pool=ops.MultiScaleRoIAlign(["0", "1"], 7, 2),
        box_head=TwoMLPHead(8 * 49, 32),
        box_predictor=FastRCNNPredictor(32, 3),
        keypoint_roi_pool=ops.MultiScaleRoIAlign(["0", "1"], 6, 2),
        keypoint_head=KeypointRCNNHeads(8, (8,)),
        keypoint_predictor=KeypointRCNNPredictor(8, 4),
        rpn_pre_nms_top_n_train=40,
        rpn_post_nms_top_n_train=16,
        rpn_pre_nms_top_n_test=40,
        rpn_post_nms_top_n_test=16,
        rpn_batch_size_per_image=32,
        box_batch_size_per_image=16,
        box_score_thresh=0.0,
    )


def _keypoint_targets():
    targets = _targets()
    for t in targets:
        points = []
        for x1, y1, x2, y2 in t["boxes"].tolist():
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            points.append([[x1 + 2, y1 + 3, 2], [x2, cy, 1], [cx, cy, 2], [x1 + 5, y2 - 2, 0]])
        t["keypoints"] = minigrad.tensor(points)
    return targets


def test_keypoint_rcnn_trains_and_detects():
    minigrad.manual_seed(0)
    model = _tiny_keypoint_rcnn()
    images = [minigrad.rand(3, 64, 64), minigrad.rand(3, 48, 64)]
    model.train()
    losses = model(images, _keypoint_targets())
    assert "loss_keypoint" in losses and np.isfinite(losses["loss_keypoint"].item())
    assert losses["loss_keypoint"].item() > 0
    sum(losses.values()).backward()
    assert model.roi_heads.keypoint_predictor.kps_score_lowres.weight.grad.abs().sum().item() > 0
    with pytest.raises(TypeError, match="target keypoints must of float type"):
        bad = _keypoint_targets()
        bad[0]["keypoints"] = bad[0]["keypoints"].double()
        model(images, bad)
    model.eval()
    with minigrad.no_grad():
        out = model(images)
    _check_detections(out, [(64, 64), (48, 64)], {1, 2})
    for det in out:
        n = det["boxes"].shape[0]
        assert det["keypoints"].shape == (n, 4, 3) and det["keypoints_scores"].shape == (n, 4)
        kp, boxes = det["keypoints"].numpy(), det["boxes"].numpy()
        assert (kp[..., 2] == 1).all()
        # each keypoint is a cell centre of its box's grid: inside the box (at least 1 px wide)
        x1, y1 = boxes[:, None, 0], boxes[:, None, 1]
        x2 = x1 + np.maximum(boxes[:, None, 2] - x1, 1)
        y2 = y1 + np.maximum(boxes[:, None, 3] - y1, 1)
        assert ((kp[..., 0] >= x1) & (kp[..., 0] <= x2 + 1e-4)).all()
        assert ((kp[..., 1] >= y1) & (kp[..., 1] <= y2 + 1e-4)).all()


def test_keypoints_to_heatmap_and_back():
    from minigrad.vision.models.detection import roi_heads

    rois = minigrad.tensor([[0.0, 0.0, 8.0, 8.0], [4.0, 4.0, 12.0, 20.0]])
    keypoints = minigrad.tensor(
        [
            [[1.0, 1.0, 1.0], [8.0, 3.0, 1.0], [5.0, 5.0, 0.0]],  # the 2nd on the right edge
            [[6.0, 12.0, 2.0], [13.0, 5.0, 1.0], [4.0, 4.0, 1.0]],  # the 2nd outside
        ]
    )
    heatmaps, valid = roi_heads.keypoints_to_heatmap(keypoints, rois, 4)
    # roi 0: scale 0.5 -> (0, 0) = 0 and (x edge -> 3, y 1) = 7; invisible -> 0
    # roi 1: scale (0.5, 0.25) -> x 1, y 2 -> 9; outside -> 0; (0, 0) -> 0
    assert heatmaps.tolist() == [[0, 7, 0], [9, 0, 0]]
    assert valid.tolist() == [[1, 1, 0], [1, 0, 1]]
    maps = minigrad.zeros((1, 2, 4, 4))
    maps[0, 0, 1, 2] = 5.0
    maps[0, 1, 3, 0] = 5.0
    points, scores = roi_heads.heatmaps_to_keypoints(
        maps, minigrad.tensor([[10.0, 20.0, 18.0, 28.0]])
    )
    # an 8x8 RoI: the 4x4 map resized to 8x8 (bicubic); the peak cell's centre + offset
    assert points.shape == (1, 2, 3) and scores.shape == (1, 2)
    x, y = points[0, 0, :2].tolist()
    assert 14 <= x <= 16 and 22 <= y <= 24
    x, y = points[0, 1, :2].tolist()
    assert 10 <= x <= 12 and 26 <= y <= 28
    loss = roi_heads.keypointrcnn_loss(
        minigrad.zeros((2, 3, 4, 4), requires_grad=True),
        [rois],
        [keypoints],
        [minigrad.tensor([0, 1])],
    )
    assert abs(loss.item() - np.log(16)) < 1e-6  # uniform logits: log(H·W)


def _tiny_ssd(lite=False):
    from minigrad.vision.models._utils import IntermediateLayerGetter
    from minigrad.vision.models.detection.anchor_utils import DefaultBoxGenerator

    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
            layer3=nn.Conv2d(16, 16, 3, 2, 1),
        )
    )
    # no out_channels: SSD finds the maps' channels with a trial run
    backbone = IntermediateLayerGetter(body, {"layer1": "0", "layer2": "1", "layer3": "2"})
    anchors = DefaultBoxGenerator([[2], [2, 3], [2]], scales=[0.1, 0.3, 0.6, 0.9], steps=[4, 8, 16])
    head = None
    if lite:  # SSDlite's depthwise-separable prediction blocks
        head = detection.ssdlite.SSDLiteHead([8, 16, 16], [4, 6, 4], 3, nn.BatchNorm2d)
    return detection.SSD(
        backbone, anchors, (64, 64), 3, head=head, score_thresh=0.2, detections_per_img=20
    )


@pytest.mark.parametrize("lite", [False, True])
def test_ssd_trains_and_detects(lite):
    minigrad.manual_seed(0)
    model = _tiny_ssd(lite)
    if not lite:
        assert [m.in_channels for m in model.head.regression_head.module_list] == [8, 16, 16]
    images = [minigrad.rand(3, 64, 64), minigrad.rand(3, 48, 64)]  # both resized to 64x64
    losses, totals = _train_steps(model, images, steps=2, lr=0.01)
    assert set(losses) == {"bbox_regression", "classification"}
    assert all(np.isfinite(t) for t in totals) and totals[-1] < totals[0]
    model.eval()
    with minigrad.no_grad():
        out = model(images)
    _check_detections(out, [(64, 64), (48, 64)], {1, 2})


def test_ssd_default_boxes_and_hard_negatives():
    from minigrad.vision.models.detection.anchor_utils import DefaultBoxGenerator

    gen = DefaultBoxGenerator(
        [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
        scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
        steps=[8, 16, 32, 64, 100, 300],
    )
    grids = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]
    boxes = gen._grid_default_boxes(grids, (300, 300))
    assert boxes.shape == (8732, 4)  # SSD300's default boxes
    # the first cell of the first map: centre (0.5/37.5, ...), squares 0.07 and sqrt(0.07·0.15)
    first = boxes[:4].numpy()
    assert np.allclose(first[:, :2], 0.5 / 37.5)
    root2 = np.sqrt(2)
    expected = [[0.07, 0.07], [np.sqrt(0.07 * 0.15)] * 2, [0.07 * root2, 0.07 / root2],
                [0.07 / root2, 0.07 * root2]]  # fmt: skip
    assert np.allclose(first[:, 2:], expected)
    assert (boxes[:, 2:].numpy() <= 1).all()  # clipped (the last map's 1.05 squares)
    loss = minigrad.tensor([[0.1, 0.9, 0.5, 0.7, 0.2, 0.3], [0.4, 0.3, 0.2, 0.1, 0.8, 0.6]])
    foreground = minigrad.tensor(
        [[False, True, False, False, False, False], [False, False, False, False, False, False]]
    )
    mask = detection.ssd.hard_negative_mask(loss, foreground, 3.0)
    # row 0: one positive -> the three hardest negatives (0.7, 0.5, 0.3); row 1: none
    assert mask.tolist() == [[False, False, True, True, False, True], [False] * 6]


def test_ssdlite_builder_structure():
    with minigrad.device("meta"):
        model = detection.ssdlite320_mobilenet_v3_large(weights_backbone=None)
    counts = len(model.state_dict()), sum(p.numel() for p in model.parameters())
    assert counts == TORCHVISION_COUNTS["ssdlite320_mobilenet_v3_large"]
    assert model.transform.fixed_size == (320, 320) and model.transform.size_divisible == 1
    # C4 is the expansion of MobileNetV3's last stride-2 block (672 channels), C5 the
    # reduced tail's 480, then the extra blocks
    widths = [b[-1].in_channels for b in model.head.classification_head.module_list]
    assert widths == [672, 480, 512, 256, 256, 128]
    assert model.anchor_generator.num_anchors_per_location() == [6] * 6
    assert (model.score_thresh, model.nms_thresh, model.topk_candidates) == (0.001, 0.55, 300)


def test_gather_rows_repeats_and_second_derivatives():
    """The RoI ops' row gather: repeated rows add up in the backward, and the backward is
    itself differentiable."""
    from minigrad.vision.ops._utils import gather_rows

    x = minigrad.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    index = np.array([[2, 0], [2, 2]])
    out = gather_rows(x, index)
    assert out.shape == (2, 2, 3) and out[1, 0].tolist() == [6.0, 7.0, 8.0]
    out.sum().backward()
    assert x.grad[:, 0].tolist() == [1.0, 0.0, 3.0, 0.0]
    assert minigrad.autograd.gradgradcheck(
        lambda t: gather_rows(t, index) ** 2, (x.detach().double().requires_grad_(),)
    )
