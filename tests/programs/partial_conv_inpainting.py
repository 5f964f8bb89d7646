"""Image inpainting with partial convolutions (Liu et al. 2018) as NVIDIA's PartialConv2d
writes it: a Conv2d subclass that convolves the mask with a ``torch.ones`` kernel under
``torch.no_grad()`` (``F.conv2d`` with the layer's stride, padding and dilation),
renormalizes by ``slide_winsize / (update_mask + 1e-8)``, clamps the updated mask to [0, 1]
and returns it beside the output; an encoder-decoder whose decoder upsamples image and mask
with ``F.interpolate(mode="nearest")``, concatenates the skip connections and joins their masks
with ``torch.max``; the paper's loss (valid L1 + 6 x hole L1 + 0.1 x total variation over
the dilated hole); irregular masks drawn as random rectangles; on 16x16 images of stripes."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class PartialConv2d(nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_maskUpdater = torch.ones(1, 1, self.kernel_size[0], self.kernel_size[1])
        self.slide_winsize = self.weight_maskUpdater.shape[2] * self.weight_maskUpdater.shape[3]

    def forward(self, input, mask_in):
        with torch.no_grad():
            if self.weight_maskUpdater.type() != input.type():
                self.weight_maskUpdater = self.weight_maskUpdater.to(input)
            update_mask = F.conv2d(mask_in, self.weight_maskUpdater, bias=None, stride=self.stride,
                                   padding=self.padding, dilation=self.dilation, groups=1)  # fmt: skip
            mask_ratio = self.slide_winsize / (update_mask + 1e-8)
            update_mask = torch.clamp(update_mask, 0, 1)
            mask_ratio = torch.mul(mask_ratio, update_mask)
        raw_out = super().forward(torch.mul(input, mask_in))
        if self.bias is not None:
            bias_view = self.bias.view(1, self.out_channels, 1, 1)
            output = torch.mul(raw_out - bias_view, mask_ratio) + bias_view
            output = torch.mul(output, update_mask)
        else:
            output = torch.mul(raw_out, mask_ratio)
        return output, update_mask


class PConvUNet(nn.Module):
    def __init__(self, ch=16):
        super().__init__()
        self.enc1 = PartialConv2d(1, ch, 5, stride=2, padding=2)
        self.enc2 = PartialConv2d(ch, ch * 2, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(ch * 2)
        self.dec2 = PartialConv2d(ch * 2 + ch, ch, 3, padding=1)
        self.dec1 = PartialConv2d(ch + 1, 1, 3, padding=1)

    def forward(self, image, mask):
        h1, m1 = self.enc1(image, mask)
        h1 = F.relu(h1)
        h2, m2 = self.enc2(h1, m1)
        h2 = F.relu(self.bn2(h2))
        up, up_mask = F.interpolate(h2, scale_factor=2), F.interpolate(m2, scale_factor=2)
        h, m = self.dec2(torch.cat([up, h1], 1), torch.max(up_mask, m1))  # valid in either
        h = F.leaky_relu(h, 0.2)
        up, up_mask = F.interpolate(h, scale_factor=2), F.interpolate(m, scale_factor=2)
        out, out_mask = self.dec1(torch.cat([up, image], 1), torch.max(up_mask, mask))
        return out, out_mask


def total_variation_loss(image, mask):
    kernel = torch.ones(1, 1, 3, 3)
    dilated_holes = (F.conv2d(1 - mask, kernel, padding=1) > 0).float()
    comp = image * dilated_holes
    loss = torch.mean(torch.abs(comp[:, :, :, :-1] - comp[:, :, :, 1:]))
    return loss + torch.mean(torch.abs(comp[:, :, :-1, :] - comp[:, :, 1:, :]))


def images(n):
    xs = torch.linspace(0, 1, 16)
    freq = torch.randint(1, 4, (n, 1, 1, 1)).float()
    phase = torch.rand(n, 1, 1, 1) * 6.28
    vertical = torch.rand(n, 1, 1, 1) < 0.5
    grid = torch.where(vertical, xs.view(1, 1, 1, 16), xs.view(1, 1, 16, 1))
    return torch.sin(grid * freq * 6.28 + phase)


def random_masks(n):
    mask = torch.ones(n, 1, 16, 16)
    for i in range(n):
        for _ in range(2):
            r, c = torch.randint(0, 12, (2,)).tolist()
            h, w = torch.randint(2, 6, (2,)).tolist()
            mask[i, :, r : r + h, c : c + w] = 0
    return mask


model = PConvUNet()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses, hole_losses = [], []
for step in range(40):
    gt, mask = images(16), random_masks(16)
    output, _ = model(gt * mask, mask)
    comp = mask * gt + (1 - mask) * output
    loss_valid = F.l1_loss(mask * output, mask * gt)
    loss_hole = F.l1_loss((1 - mask) * output, (1 - mask) * gt)
    loss = loss_valid + 6.0 * loss_hole + 0.1 * total_variation_loss(comp, mask)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    hole_losses.append(loss_hole.item())

model.eval()
with torch.no_grad():
    gt, mask = images(32), random_masks(32)
    output, out_mask = model(gt * mask, mask)
    hole = 1 - mask
    hole_mae = ((output - gt).abs() * hole).sum().item() / hole.sum().item()
    fill = (gt * mask).sum() / mask.sum()  # the baseline: holes filled with the known mean
    fill_mean_mae = ((fill - gt).abs() * hole).sum().item() / hole.sum().item()
    single = PartialConv2d(1, 1, 3, padding=1, bias=False)
    single.weight.data.fill_(1.0)
    probe_mask = torch.ones(1, 1, 4, 4)
    probe_mask[..., :2, :2] = 0
    probe_out, probe_update = single(torch.ones(1, 1, 4, 4), probe_mask)
mask_coverage = [out_mask.mean().item(), mask.mean().item()]
probe = [probe_out[0, 0].tolist(), probe_update[0, 0].tolist()]
maskupdater_type = single.weight_maskUpdater.type()
