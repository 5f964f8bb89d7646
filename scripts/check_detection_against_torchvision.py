"""minigrad.vision's Mask R-CNN against torchvision's own Python code, run on PyTorch.

torchvision's wheel cannot import next to this PyTorch (its compiled ops), but its detection
models are Python: this unpacks the wheel's Python files, stubs the compiled ops' meta
registrations, defines ``torchvision::nms`` in Python (torchvision's RoI Align already falls
back to its Python version without the extension), builds the same tiny Mask R-CNN in both
libraries with minigrad's weights copied into torchvision's, and compares, for three seeds,
the training losses (the seeded ``randperm`` sampling and the random training size included)
and parameter gradients, then the evaluation detections (boxes, labels, scores, pasted
masks). It fails (exit 1) on a mismatch.

The same comparison runs for tiny RetinaNets (v1: L1 box loss; v2: GroupNorm heads, GIoU
loss, P6 from C5), a tiny FCOS, a tiny Keypoint R-CNN, a tiny SSD
and the full SSDlite320 (MobileNetV3) builder.

Run: ``python scripts/check_detection_against_torchvision.py [torchvision-*.whl] [names]``
(about a minute of CPU; the wheel defaults to /opt/pypi-more/files/torchvision-0.28.0-*.whl;
``names`` picks models: maskrcnn, retinanet, retinanet_v2, fcos, keypointrcnn, ssd, ssdlite).
"""

from __future__ import annotations

import glob
import sys
import tempfile
import types
import zipfile
from collections import OrderedDict

import numpy as np
import torch

import minigrad
from minigrad.vision import ops as mg_ops
from minigrad.vision.models import detection as mg_det
from minigrad.vision.models._utils import IntermediateLayerGetter
from minigrad.vision.models.detection import MaskRCNN
from minigrad.vision.models.detection.anchor_utils import AnchorGenerator
from minigrad.vision.models.detection.backbone_utils import BackboneWithFPN
from minigrad.vision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from minigrad.vision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from minigrad.vision.ops.feature_pyramid_network import LastLevelP6P7

WHEEL = "/opt/pypi-more/files/torchvision-0.28.0-*.whl"


def _python_nms(dets, scores, threshold):
    """torchvision's greedy NMS, for the stubbed ``torchvision::nms``."""
    order = torch.sort(scores, descending=True, stable=True)[1]
    x1, y1, x2, y2 = dets.unbind(1)
    areas = (x2 - x1) * (y2 - y1)
    suppressed = torch.zeros(len(scores), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        w = (torch.minimum(x2[i], x2) - torch.maximum(x1[i], x1)).clamp(min=0)
        h = (torch.minimum(y2[i], y2) - torch.maximum(y1[i], y1)).clamp(min=0)
        suppressed |= w * h / (areas[i] + areas - w * h) > threshold
    return torch.tensor(keep, dtype=torch.int64)


def import_torchvision(wheel: str):
    """torchvision's Python code from ``wheel``, its compiled ops replaced as described."""
    target = tempfile.mkdtemp(prefix="tv-")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target, [n for n in archive.namelist() if n.endswith(".py")])
    sys.path.insert(0, target)
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("stub")
    library = torch.library.Library("torchvision", "DEF")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.impl("nms", _python_nms, "CPU")
    import torchvision
    import torchvision.ops.boxes

    torchvision.ops.boxes._assert_has_ops = lambda: None
    torchvision._stub_library = library  # keep the definitions alive
    return torchvision


def build(nn, parts):
    """The same tiny Mask R-CNN from either library's ``nn`` and detection ``parts``."""
    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
        )
    )
    backbone = parts["BackboneWithFPN"](body, {"layer1": "0", "layer2": "1"}, [8, 16], 8)
    pool = parts["MultiScaleRoIAlign"]
    return parts["MaskRCNN"](
        backbone,
        min_size=(56, 64),  # a random training size: the draw must match too
        max_size=80,
        rpn_anchor_generator=parts["AnchorGenerator"](
            ((16,), (32,), (64,)), ((0.5, 1.0, 2.0),) * 3
        ),
        box_roi_pool=pool(["0", "1"], 7, 2),
        box_head=parts["TwoMLPHead"](8 * 49, 32),
        box_predictor=parts["FastRCNNPredictor"](32, 3),
        mask_roi_pool=pool(["0", "1"], 6, 2),
        mask_head=parts["MaskRCNNHeads"](8, (8,), 1),
        mask_predictor=parts["MaskRCNNPredictor"](8, 8, 3),
        rpn_pre_nms_top_n_train=60,
        rpn_post_nms_top_n_train=30,
        rpn_pre_nms_top_n_test=60,
        rpn_post_nms_top_n_test=30,
        rpn_batch_size_per_image=32,
        box_batch_size_per_image=24,
        box_score_thresh=0.0,
    )


def sample():
    """Two images of different sizes with boxes, labels and box-shaped masks."""
    rng = np.random.default_rng(0)
    images = [rng.random((3, 64, 72), np.float32), rng.random((3, 50, 64), np.float32)]
    boxes = [
        np.array([[4, 6, 30, 40], [20, 10, 60, 50]], np.float32),
        np.array([[10, 5, 40, 30]], np.float32),
    ]
    labels = [np.array([1, 2]), np.array([2])]
    masks = []
    for b, image in zip(boxes, images):
        mask = np.zeros((len(b), *image.shape[1:]), np.uint8)
        for i, (x1, y1, x2, y2) in enumerate(b.astype(int)):
            mask[i, y1:y2, x1:x2] = 1
        masks.append(mask)
    return images, [{"boxes": b, "labels": c, "masks": m} for b, c, m in zip(boxes, labels, masks)]


def compare(
    name, ours, theirs, images, targets, seeds=(0, 1, 2), detections=True, double=False
) -> float:
    """Load ``ours``' weights into ``theirs``, then print and return the largest difference
    of the training losses and gradients (for each seed) and of the evaluation detections
    (with ``detections=False``, of the evaluation head outputs instead: freshly initialised
    models give many near-equal scores, whose NMS order float rounding may flip). ``double``
    runs both in float64: batch norms over two samples amplify float32 rounding in the
    gradients of deep backbones (SSDlite's MobileNetV3) to percents."""
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    if double:
        ours.double()
        theirs.double()
        images = [i.astype(np.float64) for i in images]
        targets = [
            {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in t.items()}
            for t in targets
        ]
    worst = 0.0
    for seed in seeds:
        ours.train()
        theirs.train()
        minigrad.manual_seed(seed)
        torch.manual_seed(seed)
        ours_losses = ours(
            [minigrad.tensor(i) for i in images],
            [{k: minigrad.tensor(v) for k, v in t.items()} for t in targets],
        )
        their_losses = theirs(
            [torch.tensor(i) for i in images],
            [{k: torch.tensor(v) for k, v in t.items()} for t in targets],
        )
        for key, value in their_losses.items():
            diff = abs(ours_losses[key].item() - value.item())
            worst = max(worst, diff)
            print(
                f"{name} seed {seed} {key:18s} minigrad {ours_losses[key].item():.6f}  "
                f"torchvision {value.item():.6f}"
            )
        sum(ours_losses.values()).backward()
        sum(their_losses.values()).backward()
        their_params = dict(theirs.named_parameters())
        grad_diff = 0.0  # relative to the parameter's largest gradient (at least 1)
        for n, p in ours.named_parameters():
            if p.grad is None and their_params[n].grad is None:
                continue
            theirs_grad = their_params[n].grad.numpy()
            diff = float(np.abs(p.grad.numpy() - theirs_grad).max())
            grad_diff = max(grad_diff, diff / max(1.0, float(np.abs(theirs_grad).max())))
        print(f"{name} seed {seed} largest (relative) gradient difference {grad_diff:.2e}")
        worst = max(worst, grad_diff)
        ours.zero_grad()
        theirs.zero_grad()
    ours.eval()
    theirs.eval()
    if not detections:
        return max(worst, compare_head_outputs(name, ours, theirs, images))
    with minigrad.no_grad(), torch.no_grad():
        ours_out = ours([minigrad.tensor(i) for i in images])
        their_out = theirs([torch.tensor(i) for i in images])
    for a, b in zip(ours_out, their_out):
        for key in b:
            if tuple(a[key].shape) != tuple(b[key].shape):
                print(f"{name} {key}: shapes differ {tuple(a[key].shape)} vs {tuple(b[key].shape)}")
                return float("inf")
            diff = float(np.abs(a[key].numpy().astype(np.float64) - b[key].numpy()).max(initial=0))
            print(f"{name} detections {key:9s} {tuple(b[key].shape)} largest difference {diff:.2e}")
            worst = max(worst, diff)
    return worst


def compare_head_outputs(name, ours, theirs, images) -> float:
    """The largest difference of the evaluation-mode head outputs (transform, backbone,
    head), relative to their largest magnitude."""
    with minigrad.no_grad(), torch.no_grad():
        a = ours.head(
            list(
                ours.backbone(
                    ours.transform([minigrad.tensor(i) for i in images])[0].tensors
                ).values()
            )
        )
        b = theirs.head(
            list(
                theirs.backbone(
                    theirs.transform([torch.tensor(i) for i in images])[0].tensors
                ).values()
            )
        )
    worst = 0.0
    for key in b:
        scale = max(1.0, float(b[key].abs().max()))
        diff = float(np.abs(a[key].numpy() - b[key].numpy()).max()) / scale
        print(
            f"{name} eval head {key:15s} {tuple(b[key].shape)} largest relative difference {diff:.2e}"
        )
        worst = max(worst, diff)
    return worst


def tiny_retinanet(nn, parts, v2: bool):
    """A tiny RetinaNet (v1: L1 loss; v2: GroupNorm heads and GIoU loss) from either
    library."""
    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
        )
    )
    extra = parts["LastLevelP6P7"](16 if v2 else 8, 8)
    backbone = parts["BackboneWithFPN"](
        body, {"layer1": "0", "layer2": "1"}, [8, 16], 8, extra_blocks=extra
    )
    sizes = tuple((s, int(s * 2 ** (1 / 3)), int(s * 2 ** (2 / 3))) for s in (8, 16, 32, 64))
    anchors = parts["AnchorGenerator"](sizes, ((0.5, 1.0, 2.0),) * 4)
    norm = (lambda c: nn.GroupNorm(4, c)) if v2 else None
    head = parts["RetinaNetHead"](8, 9, 3, norm_layer=norm)
    if v2:
        head.regression_head._loss_type = "giou"
    model = parts["RetinaNet"](
        backbone,
        3,
        min_size=(56, 64),
        max_size=80,
        anchor_generator=anchors,
        head=head,
        score_thresh=0.0,
        topk_candidates=40,
        detections_per_img=30,
    )
    return model


def spread_head(model) -> None:
    """Wider head weights (std 0.1 instead of 0.01): freshly initialised heads give nearly
    equal scores, whose ties the two libraries' ``topk`` may order differently."""
    for module in model.head.modules():
        if isinstance(module, minigrad.nn.Conv2d):
            minigrad.nn.init.normal_(module.weight, std=0.1)


def tiny_fcos(nn, parts):
    """A tiny FCOS (32-channel FPN for the heads' GroupNorm(32), towers of two convolutions,
    four levels) from either library."""
    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
        )
    )
    backbone = parts["BackboneWithFPN"](
        body,
        {"layer1": "0", "layer2": "1"},
        [8, 16],
        32,
        extra_blocks=parts["LastLevelP6P7"](32, 32),
    )
    anchors = parts["AnchorGenerator"](((4,), (8,), (16,), (32,)), ((1.0,),) * 4)
    head = parts["FCOSHead"](32, 1, 3, num_convs=2)
    return parts["FCOS"](
        backbone,
        3,
        min_size=(56, 64),
        max_size=80,
        anchor_generator=anchors,
        head=head,
        center_sampling_radius=2.5,
        score_thresh=0.0,
        topk_candidates=40,
        detections_per_img=30,
    )


def tiny_keypointrcnn(nn, parts):
    """The tiny Mask R-CNN's detector with a keypoint branch instead of the mask branch
    (5 keypoints, 6×6 pooling to 24×24 heatmaps)."""
    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
        )
    )
    backbone = parts["BackboneWithFPN"](body, {"layer1": "0", "layer2": "1"}, [8, 16], 8)
    pool = parts["MultiScaleRoIAlign"]
    return parts["KeypointRCNN"](
        backbone,
        min_size=(56, 64),
        max_size=80,
        rpn_anchor_generator=parts["AnchorGenerator"](
            ((16,), (32,), (64,)), ((0.5, 1.0, 2.0),) * 3
        ),
        box_roi_pool=pool(["0", "1"], 7, 2),
        box_head=parts["TwoMLPHead"](8 * 49, 32),
        box_predictor=parts["FastRCNNPredictor"](32, 3),
        keypoint_roi_pool=pool(["0", "1"], 6, 2),
        keypoint_head=parts["KeypointRCNNHeads"](8, (8, 8)),
        keypoint_predictor=parts["KeypointRCNNPredictor"](8, 5),
        rpn_pre_nms_top_n_train=60,
        rpn_post_nms_top_n_train=30,
        rpn_pre_nms_top_n_test=60,
        rpn_post_nms_top_n_test=30,
        rpn_batch_size_per_image=32,
        box_batch_size_per_image=24,
        box_score_thresh=0.0,
    )


def with_keypoints(targets):
    """Five keypoints per box: its corners' neighbourhood and centre, one of them invisible
    and one on the box's right edge (the heatmap's boundary case)."""
    out = []
    for t in targets:
        points = []
        for x1, y1, x2, y2 in t["boxes"]:
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            points.append(
                [
                    [x1 + 2, y1 + 3, 2],
                    [x2, cy, 1],
                    [cx, cy, 2],
                    [x1 + 5, y2 - 2, 0],
                    [cx, y2 - 1, 1],
                ]
            )
        out.append({**t, "keypoints": np.array(points, np.float32)})
    return out


def tiny_ssd(nn, parts):
    """A tiny SSD: three maps (strides 4, 8, 16) of a 64×64 input, no ``out_channels`` (the
    channels are found by a trial run), default boxes with steps."""
    body = nn.Sequential(
        OrderedDict(
            stem=nn.Conv2d(3, 4, 3, 2, 1),
            relu=nn.ReLU(),
            layer1=nn.Conv2d(4, 8, 3, 2, 1),
            layer2=nn.Conv2d(8, 16, 3, 2, 1),
            layer3=nn.Conv2d(16, 16, 3, 2, 1),
        )
    )
    backbone = parts["IntermediateLayerGetter"](body, {"layer1": "0", "layer2": "1", "layer3": "2"})
    anchors = parts["DefaultBoxGenerator"](
        [[2], [2, 3], [2]], scales=[0.1, 0.3, 0.6, 0.9], steps=[4, 8, 16]
    )
    return parts["SSD"](
        backbone, anchors, (64, 64), 3, score_thresh=0.2, topk_candidates=30, detections_per_img=40
    )


def main() -> int:
    wheels = [a for a in sys.argv[1:] if a.endswith(".whl")]
    only = set(a for a in sys.argv[1:] if not a.endswith(".whl"))
    wheel = wheels[0] if wheels else sorted(glob.glob(WHEEL))[-1]
    tv = import_torchvision(wheel)
    from torchvision.models import detection as tv_det
    from torchvision.models.detection import backbone_utils, faster_rcnn, fcos, mask_rcnn, retinanet

    ours_parts = {
        "BackboneWithFPN": BackboneWithFPN,
        "AnchorGenerator": AnchorGenerator,
        "TwoMLPHead": TwoMLPHead,
        "FastRCNNPredictor": FastRCNNPredictor,
        "MaskRCNNHeads": MaskRCNNHeads,
        "MaskRCNNPredictor": MaskRCNNPredictor,
        "MaskRCNN": MaskRCNN,
        "MultiScaleRoIAlign": mg_ops.MultiScaleRoIAlign,
        "LastLevelP6P7": LastLevelP6P7,
        "RetinaNet": mg_det.RetinaNet,
        "RetinaNetHead": mg_det.retinanet.RetinaNetHead,
        "FCOS": mg_det.FCOS,
        "FCOSHead": mg_det.fcos.FCOSHead,
        "KeypointRCNN": mg_det.KeypointRCNN,
        "KeypointRCNNHeads": mg_det.keypoint_rcnn.KeypointRCNNHeads,
        "KeypointRCNNPredictor": mg_det.keypoint_rcnn.KeypointRCNNPredictor,
        "SSD": mg_det.ssd.SSD,
        "DefaultBoxGenerator": mg_det.anchor_utils.DefaultBoxGenerator,
        "IntermediateLayerGetter": IntermediateLayerGetter,
    }
    theirs_parts = {
        "BackboneWithFPN": backbone_utils.BackboneWithFPN,
        "AnchorGenerator": tv_det.anchor_utils.AnchorGenerator,
        "TwoMLPHead": faster_rcnn.TwoMLPHead,
        "FastRCNNPredictor": faster_rcnn.FastRCNNPredictor,
        "MaskRCNNHeads": mask_rcnn.MaskRCNNHeads,
        "MaskRCNNPredictor": mask_rcnn.MaskRCNNPredictor,
        "MaskRCNN": mask_rcnn.MaskRCNN,
        "MultiScaleRoIAlign": tv.ops.MultiScaleRoIAlign,
        "LastLevelP6P7": tv.ops.feature_pyramid_network.LastLevelP6P7,
        "RetinaNet": retinanet.RetinaNet,
        "RetinaNetHead": retinanet.RetinaNetHead,
        "FCOS": fcos.FCOS,
        "FCOSHead": fcos.FCOSHead,
        "KeypointRCNN": tv_det.keypoint_rcnn.KeypointRCNN,
        "KeypointRCNNHeads": tv_det.keypoint_rcnn.KeypointRCNNHeads,
        "KeypointRCNNPredictor": tv_det.keypoint_rcnn.KeypointRCNNPredictor,
        "SSD": tv_det.ssd.SSD,
        "DefaultBoxGenerator": tv_det.anchor_utils.DefaultBoxGenerator,
        "IntermediateLayerGetter": tv.models._utils.IntermediateLayerGetter,
    }
    images, targets = sample()
    no_masks = [{k: v for k, v in t.items() if k != "masks"} for t in targets]
    worst = {}
    if not only or "maskrcnn" in only:
        minigrad.manual_seed(0)
        worst["maskrcnn"] = compare(
            "maskrcnn",
            build(minigrad.nn, ours_parts),
            build(torch.nn, theirs_parts),
            images,
            targets,
        )
    for v2 in (False, True):
        name = "retinanet_v2" if v2 else "retinanet"
        if only and name not in only:
            continue
        minigrad.manual_seed(1)
        ours = tiny_retinanet(minigrad.nn, ours_parts, v2)
        spread_head(ours)
        theirs = tiny_retinanet(torch.nn, theirs_parts, v2)
        worst[name] = compare(name, ours, theirs, images, no_masks)
    if not only or "fcos" in only:
        minigrad.manual_seed(2)
        ours = tiny_fcos(minigrad.nn, ours_parts)
        spread_head(ours)
        worst["fcos"] = compare("fcos", ours, tiny_fcos(torch.nn, theirs_parts), images, no_masks)
    if not only or "keypointrcnn" in only:
        minigrad.manual_seed(3)
        worst["keypointrcnn"] = compare(
            "keypointrcnn",
            tiny_keypointrcnn(minigrad.nn, ours_parts),
            tiny_keypointrcnn(torch.nn, theirs_parts),
            images,
            with_keypoints(no_masks),
        )
    if not only or "ssd" in only:
        minigrad.manual_seed(4)
        ours = tiny_ssd(minigrad.nn, ours_parts)
        worst["ssd"] = compare("ssd", ours, tiny_ssd(torch.nn, theirs_parts), images, no_masks)
    if not only or "ssdlite" in only:
        # the full builder (3.4 M parameters, 320×320 inputs): its MobileNetV3 extractor too
        minigrad.manual_seed(5)
        ours = mg_det.ssdlite320_mobilenet_v3_large(weights_backbone=None, num_classes=3)
        theirs = tv_det.ssdlite320_mobilenet_v3_large(weights_backbone=None, num_classes=3)
        worst["ssdlite"] = compare(
            "ssdlite", ours, theirs, images, no_masks, seeds=(0,), detections=False, double=True
        )
    bad = {k: v for k, v in worst.items() if not v < 1e-4}
    print("OK: matches torchvision" if not bad else f"MISMATCH: largest differences {bad}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
