"""Deep Learning with PyTorch, part 2, chapters 13-14 (segmenting nodules), on tiny synthetic CT
slices: ``SegmentationAugmentation`` as an ``nn.Module`` (a 3x3 ``torch.eye`` transform with
flips, offsets, scales and ``@=`` rotation, ``expand(input_g.shape[0], -1, -1)``,
``.to(input_g.device, torch.float32)``, ``F.affine_grid(transform_t[:, :2], ...)``, the boolean
label resampled as float then ``> 0.5``); ``UNetWrapper`` (input ``BatchNorm2d``, the
jvanvugt/pytorch-unet ``UNet`` with ``padding=True``, ``batch_norm=True``, ``'upconv'`` up
blocks and ``center_crop``, a final ``nn.Sigmoid``) with the book's fan-out init; the
``diceLoss`` on boolean labels (``label_g.sum(dim=[1, 2, 3])``) plus the false-negative
weighted term ``diceLoss(prediction_g * label_g, label_g)``, and the TP/FN/FP metrics of
``(1 - predictionBool_g) * label_g`` and ``predictionBool_g * (~label_g)``; then chapter 13's
``saveModel`` state dict (``sys_argv``, ``model_state``, ``optimizer_state``, epoch) written by
``torch.save`` with its SHA1 logged, loaded back by ``torch.load`` into a fresh model, and
chapter 14's connected-component style candidate count from the thresholded mask."""

import hashlib
import math
import os
import random
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

random.seed(3)
torch.manual_seed(3)
METRIC_LOSS_NDX, METRIC_TP_NDX, METRIC_FN_NDX, METRIC_FP_NDX, METRICS_SIZE = 0, 1, 2, 3, 4


class SegmentationAugmentation(nn.Module):
    def __init__(self, flip=None, offset=None, scale=None, rotate=None, noise=None):
        super().__init__()
        self.flip, self.offset, self.scale, self.rotate, self.noise = flip, offset, scale, rotate, noise  # fmt: skip

    def forward(self, input_g, label_g):
        transform_t = self._build2dTransformMatrix()
        transform_t = transform_t.expand(input_g.shape[0], -1, -1)
        transform_t = transform_t.to(input_g.device, torch.float32)
        affine_t = F.affine_grid(transform_t[:, :2], input_g.size(), align_corners=False)
        augmented_input_g = F.grid_sample(input_g, affine_t, padding_mode="border", align_corners=False)  # fmt: skip
        augmented_label_g = F.grid_sample(label_g.to(torch.float32), affine_t, padding_mode="border", align_corners=False)  # fmt: skip
        if self.noise:
            noise_t = torch.randn_like(augmented_input_g)
            noise_t *= self.noise
            augmented_input_g += noise_t
        return augmented_input_g, augmented_label_g > 0.5

    def _build2dTransformMatrix(self):
        transform_t = torch.eye(3)
        for i in range(2):
            if self.flip:
                if random.random() > 0.5:
                    transform_t[i, i] *= -1
            if self.offset:
                offset_float = self.offset
                random_float = random.random() * 2 - 1
                transform_t[2, i] = offset_float * random_float
            if self.scale:
                scale_float = self.scale
                random_float = random.random() * 2 - 1
                transform_t[i, i] *= 1.0 + scale_float * random_float
        if self.rotate:
            angle_rad = random.random() * math.pi * 2
            s = math.sin(angle_rad)
            c = math.cos(angle_rad)
            rotation_t = torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]])
            transform_t @= rotation_t
        return transform_t


class UNetConvBlock(nn.Module):
    def __init__(self, in_size, out_size, padding, batch_norm):
        super(UNetConvBlock, self).__init__()
        block = []
        block.append(nn.Conv2d(in_size, out_size, kernel_size=3, padding=int(padding)))
        block.append(nn.ReLU())
        if batch_norm:
            block.append(nn.BatchNorm2d(out_size))
        block.append(nn.Conv2d(out_size, out_size, kernel_size=3, padding=int(padding)))
        block.append(nn.ReLU())
        if batch_norm:
            block.append(nn.BatchNorm2d(out_size))
        self.block = nn.Sequential(*block)

    def forward(self, x):
        return self.block(x)


class UNetUpBlock(nn.Module):
    def __init__(self, in_size, out_size, up_mode, padding, batch_norm):
        super(UNetUpBlock, self).__init__()
        if up_mode == "upconv":
            self.up = nn.ConvTranspose2d(in_size, out_size, kernel_size=2, stride=2)
        elif up_mode == "upsample":
            self.up = nn.Sequential(nn.Upsample(mode="bilinear", scale_factor=2), nn.Conv2d(in_size, out_size, kernel_size=1))  # fmt: skip
        self.conv_block = UNetConvBlock(in_size, out_size, padding, batch_norm)

    def center_crop(self, layer, target_size):
        _, _, layer_height, layer_width = layer.size()
        diff_y = (layer_height - target_size[0]) // 2
        diff_x = (layer_width - target_size[1]) // 2
        return layer[:, :, diff_y : (diff_y + target_size[0]), diff_x : (diff_x + target_size[1])]

    def forward(self, x, bridge):
        up = self.up(x)
        crop1 = self.center_crop(bridge, up.shape[2:])
        out = torch.cat([up, crop1], 1)
        return self.conv_block(out)


class UNet(nn.Module):
    def __init__(self, in_channels=1, n_classes=2, depth=5, wf=6, padding=False, batch_norm=False, up_mode="upconv"):  # fmt: skip
        super(UNet, self).__init__()
        assert up_mode in ("upconv", "upsample")
        self.padding = padding
        self.depth = depth
        prev_channels = in_channels
        self.down_path = nn.ModuleList()
        for i in range(depth):
            self.down_path.append(UNetConvBlock(prev_channels, 2 ** (wf + i), padding, batch_norm))
            prev_channels = 2 ** (wf + i)
        self.up_path = nn.ModuleList()
        for i in reversed(range(depth - 1)):
            self.up_path.append(UNetUpBlock(prev_channels, 2 ** (wf + i), up_mode, padding, batch_norm))  # fmt: skip
            prev_channels = 2 ** (wf + i)
        self.last = nn.Conv2d(prev_channels, n_classes, kernel_size=1)

    def forward(self, x):
        blocks = []
        for i, down in enumerate(self.down_path):
            x = down(x)
            if i != len(self.down_path) - 1:
                blocks.append(x)
                x = F.max_pool2d(x, 2)
        for i, up in enumerate(self.up_path):
            x = up(x, blocks[-i - 1])
        return self.last(x)


class UNetWrapper(nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.input_batchnorm = nn.BatchNorm2d(kwargs["in_channels"])
        self.unet = UNet(**kwargs)
        self.final = nn.Sigmoid()
        self._init_weights()

    def _init_weights(self):
        init_set = {nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear}
        for m in self.modules():
            if type(m) in init_set:
                nn.init.kaiming_normal_(m.weight.data, mode="fan_out", nonlinearity="relu", a=0)
                if m.bias is not None:
                    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight.data)
                    bound = 1 / math.sqrt(fan_out)
                    nn.init.normal_(m.bias, -bound, bound)

    def forward(self, input_batch):
        bn_output = self.input_batchnorm(input_batch)
        un_output = self.unet(bn_output)
        return self.final(un_output)


def make_slices(n):
    """Three context slices of a CT around one with a bright disc (the nodule mask)."""
    yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    cy, cx = torch.randint(4, 12, (n, 1, 1)), torch.randint(4, 12, (n, 1, 1))
    label = ((yy - cy) ** 2 + (xx - cx) ** 2 < 6).unsqueeze(1)
    ct = torch.randn(n, 3, 16, 16) * 0.2 + label.float() * torch.tensor([0.6, 1.0, 0.6]).view(1, 3, 1, 1)  # fmt: skip
    return ct, label


def diceLoss(prediction_g, label_g, epsilon=1):
    diceLabel_g = label_g.sum(dim=[1, 2, 3])
    dicePrediction_g = prediction_g.sum(dim=[1, 2, 3])
    diceCorrect_g = (prediction_g * label_g).sum(dim=[1, 2, 3])
    diceRatio_g = (2 * diceCorrect_g + epsilon) / (dicePrediction_g + diceLabel_g + epsilon)
    return 1 - diceRatio_g


augmentation_model = SegmentationAugmentation(flip=True, offset=0.03, scale=0.2, rotate=True, noise=0.05)  # fmt: skip
segmentation_model = UNetWrapper(in_channels=3, n_classes=1, depth=2, wf=2, padding=True, batch_norm=True, up_mode="upconv")  # fmt: skip
optimizer = torch.optim.Adam(segmentation_model.parameters(), lr=0.01)
train_ct, train_label = make_slices(16)
batch_size = 8


def computeBatchLoss(batch_ndx, input_g, label_g, metrics_g, classificationThreshold=0.5):
    if segmentation_model.training:
        input_g, label_g = augmentation_model(input_g, label_g)
    prediction_g = segmentation_model(input_g)
    diceLoss_g = diceLoss(prediction_g, label_g)
    fnLoss_g = diceLoss(prediction_g * label_g, label_g)
    start_ndx = batch_ndx * batch_size
    end_ndx = start_ndx + input_g.size(0)
    with torch.no_grad():
        predictionBool_g = (prediction_g[:, 0:1] > classificationThreshold).to(torch.float32)
        tp = (predictionBool_g * label_g).sum(dim=[1, 2, 3])
        fn = ((1 - predictionBool_g) * label_g).sum(dim=[1, 2, 3])
        fp = (predictionBool_g * (~label_g)).sum(dim=[1, 2, 3])
        metrics_g[METRIC_LOSS_NDX, start_ndx:end_ndx] = diceLoss_g
        metrics_g[METRIC_TP_NDX, start_ndx:end_ndx] = tp
        metrics_g[METRIC_FN_NDX, start_ndx:end_ndx] = fn
        metrics_g[METRIC_FP_NDX, start_ndx:end_ndx] = fp
    return diceLoss_g.mean() + fnLoss_g.mean() * 8


label_dtype_sum = str(train_label.sum(dim=[1, 2, 3]).dtype)
losses, recalls = [], []
for epoch_ndx in range(1, 5):
    segmentation_model.train()
    trnMetrics_g = torch.zeros(METRICS_SIZE, len(train_ct))
    for batch_ndx in range(len(train_ct) // batch_size):
        sl = slice(batch_ndx * batch_size, (batch_ndx + 1) * batch_size)
        optimizer.zero_grad()
        loss_var = computeBatchLoss(batch_ndx, train_ct[sl], train_label[sl], trnMetrics_g)
        loss_var.backward()
        optimizer.step()
        losses.append(loss_var.item())
    sum_a = trnMetrics_g.sum(dim=1)
    recalls.append((sum_a[METRIC_TP_NDX] / (sum_a[METRIC_TP_NDX] + sum_a[METRIC_FN_NDX])).item())

with tempfile.TemporaryDirectory() as models_dir:
    file_path = os.path.join(models_dir, "seg_2026-12-07_21.00.00_final.state")
    state = {
        "sys_argv": list(sys.argv[:1]),
        "model_state": segmentation_model.state_dict(),
        "model_name": type(segmentation_model).__name__,
        "optimizer_state": optimizer.state_dict(),
        "optimizer_name": type(optimizer).__name__,
        "epoch": epoch_ndx,
        "totalTrainingSamples_count": epoch_ndx * len(train_ct),
    }
    torch.save(state, file_path)
    with open(file_path, "rb") as f:
        sha1_length = len(hashlib.sha1(f.read()).hexdigest())
    seg_dict = torch.load(file_path)
model = UNetWrapper(in_channels=3, n_classes=1, depth=2, wf=2, padding=True, batch_norm=True, up_mode="upconv")  # fmt: skip
model.load_state_dict(seg_dict["model_state"])
model.eval()
segmentation_model.eval()
loaded = [seg_dict["model_name"], seg_dict["optimizer_name"], seg_dict["epoch"], len(seg_dict["optimizer_state"]["state"]), seg_dict["optimizer_state"]["param_groups"][0]["betas"]]  # fmt: skip
val_ct, val_label = make_slices(4)
with torch.no_grad():
    prediction_g = model(val_ct)
    reload_gap = (prediction_g - segmentation_model(val_ct)).abs().max().item()
    mask_a = prediction_g[:, 0] > 0.5
val_dice = (1 - diceLoss(mask_a.unsqueeze(1).float(), val_label)).tolist()
num_batches_tracked = int(seg_dict["model_state"]["input_batchnorm.num_batches_tracked"])
