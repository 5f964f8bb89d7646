"""Deep Learning with PyTorch, part 2 (the LUNA lung-nodule project), chapters 11-12, on tiny
synthetic CT chunks: ``getCtAugmentedCandidate`` building a 4x4 ``transform_t`` from
``torch.eye(4)`` (random flips, offsets, scales, then ``transform_t @= rotation_t``), resampling
the chunk with ``F.affine_grid(transform_t[:3].unsqueeze(0), ct_t.size())`` and 3-D
``F.grid_sample(padding_mode='border')``, plus ``randn_like`` noise; ``LunaModel`` (a
``BatchNorm3d`` tail, ``LunaBlock``s of ``Conv3d`` + ``ReLU(inplace=True)`` + ``MaxPool3d``,
a linear head returning logits and ``nn.Softmax(dim=1)`` probabilities) with the book's
``_init_weights`` (``type(m) in {...}``, ``kaiming_normal_(mode='fan_out')`` and biases from
``nn.init._calculate_fan_in_and_fan_out``); ``computeBatchLoss`` on two-column ``long`` labels
(``CrossEntropyLoss(reduction='none')``) writing a ``metrics_g`` table by slices; ``logMetrics``
with boolean masks (``metrics_t[METRIC_LOSS_NDX, negLabel_mask]``) and ``np.float32``
denominators; and chapter 12's ROC curve: ``metrics_t[None, METRIC_PRED_NDX, posLabel_mask]``
against ``torch.linspace(1, 0, 100)[:, None]`` and the trapezoid AUC."""

import math
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

random.seed(0)
torch.manual_seed(0)
METRIC_LABEL_NDX, METRIC_PRED_NDX, METRIC_LOSS_NDX, METRICS_SIZE = 0, 1, 2, 3
width_irc = (8, 12, 12)


def getCtRawCandidate(isNodule_bool):
    ct_chunk = np.random.default_rng(len(candidates)).normal(-700, 100, size=width_irc)
    if isNodule_bool:  # a bright ball in the middle
        i, r, c = np.meshgrid(*[np.arange(n) - n / 2 + 0.5 for n in width_irc], indexing="ij")
        ct_chunk[i**2 + r**2 + c**2 < 9] = 50.0
    return np.clip(ct_chunk, -1000, 1000), (4, 6, 6)


def getCtAugmentedCandidate(augmentation_dict, ct_chunk, center_irc):
    ct_t = torch.tensor(ct_chunk).unsqueeze(0).unsqueeze(0).to(torch.float32)
    transform_t = torch.eye(4)
    for i in range(3):
        if "flip" in augmentation_dict:
            if random.random() > 0.5:
                transform_t[i, i] *= -1
        if "offset" in augmentation_dict:
            offset_float = augmentation_dict["offset"]
            random_float = random.random() * 2 - 1
            transform_t[i, 3] = offset_float * random_float
        if "scale" in augmentation_dict:
            scale_float = augmentation_dict["scale"]
            random_float = random.random() * 2 - 1
            transform_t[i, i] *= 1.0 + scale_float * random_float
    if "rotate" in augmentation_dict:
        angle_rad = random.random() * math.pi * 2
        s = math.sin(angle_rad)
        c = math.cos(angle_rad)
        rotation_t = torch.tensor([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        transform_t @= rotation_t
    affine_t = F.affine_grid(transform_t[:3].unsqueeze(0).to(torch.float32), ct_t.size(), align_corners=False)  # fmt: skip
    augmented_chunk = F.grid_sample(ct_t, affine_t, padding_mode="border", align_corners=False).to("cpu")  # fmt: skip
    if "noise" in augmentation_dict:
        noise_t = torch.randn_like(augmented_chunk)
        noise_t *= augmentation_dict["noise"]
        augmented_chunk += noise_t
    return augmented_chunk[0], center_irc


augmentation_dict = {"flip": True, "offset": 0.1, "scale": 0.2, "rotate": True, "noise": 25.0}
candidates = []
for ndx in range(12):
    isNodule_bool = ndx % 3 == 0
    ct_chunk, center_irc = getCtRawCandidate(isNodule_bool)
    candidate_t, center_irc = getCtAugmentedCandidate(augmentation_dict, ct_chunk, center_irc)
    pos_t = torch.tensor([not isNodule_bool, isNodule_bool], dtype=torch.long)
    candidates.append((candidate_t, pos_t))
augmented_stats = [candidates[0][0].mean().item(), candidates[0][0].std().item()]
unaugmented = getCtAugmentedCandidate({}, *getCtRawCandidate(True))[0]
identity_gap = (unaugmented[0] - torch.tensor(getCtRawCandidate(True)[0], dtype=torch.float32)).abs().max().item()  # fmt: skip


class LunaBlock(nn.Module):
    def __init__(self, in_channels, conv_channels):
        super().__init__()
        self.conv1 = nn.Conv3d(in_channels, conv_channels, kernel_size=3, padding=1, bias=True)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv3d(conv_channels, conv_channels, kernel_size=3, padding=1, bias=True)
        self.relu2 = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(2, 2)

    def forward(self, input_batch):
        block_out = self.conv1(input_batch)
        block_out = self.relu1(block_out)
        block_out = self.conv2(block_out)
        block_out = self.relu2(block_out)
        return self.maxpool(block_out)


class LunaModel(nn.Module):
    def __init__(self, in_channels=1, conv_channels=4):
        super().__init__()
        self.tail_batchnorm = nn.BatchNorm3d(1)
        self.block1 = LunaBlock(in_channels, conv_channels)
        self.block2 = LunaBlock(conv_channels, conv_channels * 2)
        self.head_linear = nn.Linear(conv_channels * 2 * 2 * 3 * 3, 2)
        self.head_softmax = nn.Softmax(dim=1)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if type(m) in {nn.Linear, nn.Conv3d, nn.Conv2d, nn.ConvTranspose2d, nn.ConvTranspose3d}:  # fmt: skip
                nn.init.kaiming_normal_(m.weight.data, a=0, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(m.weight.data)
                    bound = 1 / math.sqrt(fan_out)
                    nn.init.normal_(m.bias, -bound, bound)

    def forward(self, input_batch):
        bn_output = self.tail_batchnorm(input_batch)
        block_out = self.block1(bn_output)
        block_out = self.block2(block_out)
        conv_flat = block_out.view(block_out.size(0), -1)
        linear_output = self.head_linear(conv_flat)
        return linear_output, self.head_softmax(linear_output)


model = LunaModel()
fans = nn.init._calculate_fan_in_and_fan_out(model.block1.conv1.weight)
optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.99)
train_dl = torch.utils.data.DataLoader(candidates, batch_size=4, shuffle=True)


def computeBatchLoss(batch_ndx, batch_tup, batch_size, metrics_g):
    input_t, label_t = batch_tup
    logits_g, probability_g = model(input_t)
    loss_func = nn.CrossEntropyLoss(reduction="none")
    loss_g = loss_func(logits_g, label_t[:, 1])
    start_ndx = batch_ndx * batch_size
    end_ndx = start_ndx + label_t.size(0)
    metrics_g[METRIC_LABEL_NDX, start_ndx:end_ndx] = label_t[:, 1].detach()
    metrics_g[METRIC_PRED_NDX, start_ndx:end_ndx] = probability_g[:, 1].detach()
    metrics_g[METRIC_LOSS_NDX, start_ndx:end_ndx] = loss_g.detach()
    return loss_g.mean()


def logMetrics(metrics_t, classificationThreshold=0.5):
    negLabel_mask = metrics_t[METRIC_LABEL_NDX] <= classificationThreshold
    negPred_mask = metrics_t[METRIC_PRED_NDX] <= classificationThreshold
    posLabel_mask = ~negLabel_mask
    posPred_mask = ~negPred_mask
    neg_count = int(negLabel_mask.sum())
    pos_count = int(posLabel_mask.sum())
    trueNeg_count = neg_correct = int((negLabel_mask & negPred_mask).sum())
    truePos_count = pos_correct = int((posLabel_mask & posPred_mask).sum())
    falsePos_count = neg_count - neg_correct
    metrics_dict = {}
    metrics_dict["loss/all"] = metrics_t[METRIC_LOSS_NDX].mean().item()
    metrics_dict["loss/neg"] = metrics_t[METRIC_LOSS_NDX, negLabel_mask].mean().item()
    metrics_dict["loss/pos"] = metrics_t[METRIC_LOSS_NDX, posLabel_mask].mean().item()
    metrics_dict["correct/all"] = float((pos_correct + neg_correct) / np.float32(metrics_t.shape[1]) * 100)  # fmt: skip
    metrics_dict["correct/neg"] = float(neg_correct / np.float32(neg_count) * 100)
    metrics_dict["pr/precision"] = float(truePos_count / np.float32(truePos_count + falsePos_count))  # fmt: skip
    threshold = torch.linspace(1, 0, 100)  # the book predates steps becoming required
    tpr = (metrics_t[None, METRIC_PRED_NDX, posLabel_mask] >= threshold[:, None]).sum(1).float() / pos_count  # fmt: skip
    fpr = (metrics_t[None, METRIC_PRED_NDX, negLabel_mask] >= threshold[:, None]).sum(1).float() / neg_count  # fmt: skip
    fp_diff = fpr[1:] - fpr[:-1]
    tp_avg = (tpr[1:] + tpr[:-1]) / 2
    metrics_dict["auc"] = (fp_diff * tp_avg).sum().item()
    metrics_dict["counts"] = [neg_count, pos_count, trueNeg_count, truePos_count]
    return metrics_dict


losses, epoch_metrics = [], []
for epoch_ndx in range(4):
    model.train()
    trnMetrics_g = torch.zeros(METRICS_SIZE, len(train_dl.dataset))
    for batch_ndx, batch_tup in enumerate(train_dl):
        optimizer.zero_grad()
        loss_var = computeBatchLoss(batch_ndx, batch_tup, train_dl.batch_size, trnMetrics_g)
        loss_var.backward()
        optimizer.step()
        losses.append(loss_var.item())
    epoch_metrics.append(logMetrics(trnMetrics_g))
running_var = model.tail_batchnorm.running_var.item()
