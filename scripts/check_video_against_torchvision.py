"""minigrad.vision's full-size video classifiers, MaxViT, RAFT and MobileNetV3 Faster R-CNNs
against torchvision's own Python code, run on PyTorch.

torchvision's wheel cannot import next to this PyTorch (its compiled ops); its Python files
are unpacked and its compiled ops stubbed as ``check_detection_against_torchvision`` does. Each
model is built by both libraries' builders (``weights=None``), minigrad's weights are copied
into torchvision's (so the state dict keys and shapes must agree), and the eval-mode outputs
are compared: classifier logits (S3D's in training mode) for ``r3d_18``, ``mc3_18``, ``r2plus1d_18``, ``s3d``,
``swin3d_t``/``s``/``b``, ``mvit_v1_b``, ``mvit_v2_s`` and ``maxvit_t``; every flow estimate of ``raft_small`` and ``raft_large`` (float32: torchvision's
RAFT has float32 coordinate grids); the training losses, gradients and detections of the two
MobileNetV3-Large FPN Faster R-CNNs (float64). It also prints both libraries' state dict sizes
and parameter counts. It fails (exit 1) on a mismatch.

Run: ``python scripts/check_video_against_torchvision.py [torchvision-*.whl] [names]`` (a few
minutes of CPU; ``names`` picks models by builder name).
"""

from __future__ import annotations

import glob
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from check_detection_against_torchvision import WHEEL, compare, import_torchvision, sample

import minigrad
from minigrad.vision import models

# builder -> (its package under models, "" for the top level; the input clip or image shape)
CLASSIFIERS = {
    "r3d_18": ("video", (1, 3, 8, 64, 64)),
    "mc3_18": ("video", (1, 3, 8, 64, 64)),
    "r2plus1d_18": ("video", (1, 3, 8, 64, 64)),
    "s3d": ("video", (2, 3, 16, 224, 224)),  # the 2×7×7 pool needs 16 frames of 224²
    "swin3d_t": ("video", (1, 3, 16, 112, 112)),
    "swin3d_s": ("video", (1, 3, 8, 64, 64)),
    "swin3d_b": ("video", (1, 3, 8, 64, 64)),
    "mvit_v1_b": ("video", (1, 3, 16, 224, 224)),  # its position embeddings fix the size
    "mvit_v2_s": ("video", (1, 3, 16, 224, 224)),
    "maxvit_t": ("", (1, 3, 224, 224)),
}
FLOW = {"raft_small": (1, 3, 128, 160), "raft_large": (1, 3, 128, 160)}
DETECTORS = ["fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]


def _pair(name, package, seed=0, **kwargs):
    """(ours, theirs) built by the two builders, ours' weights loaded into theirs."""
    import torchvision.models as tv_models

    minigrad.manual_seed(seed)
    ours_module = getattr(models, package) if package else models
    theirs_module = getattr(tv_models, package) if package else tv_models
    ours = getattr(ours_module, name)(**kwargs)
    theirs = getattr(theirs_module, name)(**kwargs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    shapes = [(k, tuple(v.shape)) for k, v in ours_sd.items()]
    if shapes != [(k, tuple(v.shape)) for k, v in theirs_sd.items()]:
        raise AssertionError(f"{name}: state dict keys or shapes differ from torchvision's")
    counts = [sum(p.numel() for p in m.parameters()) for m in (ours, theirs)]
    print(f"{name}: {len(ours_sd)} state dict entries, parameters {counts[0]:,} / {counts[1]:,}")
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours_sd.items()})
    return ours.eval(), theirs.eval()


def _relative(a, b) -> float:
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))


# S3D keeps PyTorch's default convolution init, under which eval-mode batch norms (unit
# running variance) let the activations fade over its 40-odd layers: the logits would be the
# classifier's bias alone. It runs in training mode (batch statistics), without dropout.
TRAIN_MODE = {"s3d": {"dropout": 0.0}}


def check_classifier(name, package, shape) -> float:
    ours, theirs = _pair(name, package, num_classes=10, **TRAIN_MODE.get(name, {}))
    if name in TRAIN_MODE:
        ours.train()
        theirs.train()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with minigrad.no_grad(), torch.no_grad():
        a, b = ours(minigrad.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy()
    diff = _relative(a, b)
    spread = float(np.abs(b - b.mean(0)).max()) if len(b) > 1 else float(np.ptp(b))
    print(f"{name}: logits {b.shape} (spread {spread:.2e}), largest relative difference {diff:.2e}")
    return diff


def check_flow(name, shape) -> float:
    ours, theirs = _pair(name, "optical_flow")
    rng = np.random.default_rng(0)
    x1, x2 = (rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(2))
    with minigrad.no_grad(), torch.no_grad():
        a = ours(minigrad.tensor(x1), minigrad.tensor(x2), num_flow_updates=4)
        b = theirs(torch.tensor(x1), torch.tensor(x2), num_flow_updates=4)
    worst = max(_relative(p.numpy(), q.numpy()) for p, q in zip(a, b))
    print(f"{name}: {len(b)} flows {tuple(b[-1].shape)}, largest relative difference {worst:.2e}")
    return worst


def check_detector(name) -> float:
    ours, theirs = _pair(
        name, "detection", weights_backbone=None, num_classes=3, min_size=128, max_size=160
    )
    images, targets = sample()
    no_masks = [{k: v for k, v in t.items() if k != "masks"} for t in targets]
    return compare(name, ours, theirs, images, no_masks, seeds=(0,), double=True)


def main() -> int:
    wheels = [a for a in sys.argv[1:] if a.endswith(".whl")]
    only = {a for a in sys.argv[1:] if not a.endswith(".whl")}
    import_torchvision(wheels[0] if wheels else sorted(glob.glob(WHEEL))[-1])
    torch.set_num_threads(1)
    worst = {}
    for name, (package, shape) in CLASSIFIERS.items():
        if not only or name in only:
            worst[name] = check_classifier(name, package, shape)
    for name, shape in FLOW.items():
        if not only or name in only:
            worst[name] = check_flow(name, shape)
    for name in DETECTORS:
        if not only or name in only:
            worst[name] = check_detector(name)
    bad = {k: v for k, v in worst.items() if not v < 1e-4}
    print("OK: matches torchvision" if not bad else f"MISMATCH: largest differences {bad}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
