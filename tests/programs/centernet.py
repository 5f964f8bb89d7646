"""CenterNet ("Objects as Points", Zhou et al. 2019) as its reference code writes it:
Gaussian heatmap targets drawn with ``gaussian_radius`` / ``draw_umich_gaussian`` into a
per-class map (``torch.max`` of overlapping peaks), the CornerNet focal loss
(``pos_inds = gt.eq(1)``, ``torch.pow(1 - gt, 4)`` down-weighting near peaks, normalized by
the number of objects), ``_sigmoid`` clamped to [1e-4, 1 - 1e-4], size and offset regression
with ``RegL1Loss`` (``_transpose_and_gather_feat`` by ``gather`` at the flattened centre
indices, masked), and decoding by ``_nms`` (``F.max_pool2d(heat, 3, 1, 1)`` then
``(hmax == heat).float()``) and ``_topk`` over the flattened maps; on 32x32 images with
rectangles of two classes (solid and hollow)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
S, R, C, max_objs = 32, 4, 2, 3  # image size, output stride, classes, objects per image
OUT = S // R


def gaussian_radius(det_size, min_overlap=0.7):
    height, width = det_size
    a1, b1, c1 = 1, (height + width), width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * a1 * c1)) / 2
    a2, b2, c2 = 4, 2 * (height + width), (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2**2 - 4 * a2 * c2)) / 2
    a3, b3, c3 = (
        4 * min_overlap,
        -2 * min_overlap * (height + width),
        (min_overlap - 1) * width * height,
    )
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def draw_umich_gaussian(heatmap, center, radius):
    diameter = 2 * radius + 1
    sigma = diameter / 6
    ys, xs = torch.meshgrid(
        torch.arange(-radius, radius + 1.0), torch.arange(-radius, radius + 1.0), indexing="ij"
    )
    gaussian = torch.exp(-(xs * xs + ys * ys) / (2 * sigma * sigma))
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape[0:2]
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    masked_heatmap = heatmap[y - top : y + bottom, x - left : x + right]
    masked_gaussian = gaussian[radius - top : radius + bottom, radius - left : radius + right]
    torch.max(masked_heatmap, masked_gaussian, out=masked_heatmap)
    return heatmap


def make_sample():
    image = torch.randn(1, S, S) * 0.1
    hm = torch.zeros(C, OUT, OUT)
    wh, reg = torch.zeros(max_objs, 2), torch.zeros(max_objs, 2)
    ind, reg_mask = (
        torch.zeros(max_objs, dtype=torch.long),
        torch.zeros(max_objs, dtype=torch.uint8),
    )
    for k in range(torch.randint(1, max_objs + 1, (1,)).item()):
        w, h = torch.randint(6, 14, (2,)).tolist()
        x, y = torch.randint(0, S - w, (1,)).item(), torch.randint(0, S - h, (1,)).item()
        cls = torch.randint(0, C, (1,)).item()
        image[0, y : y + h, x : x + w] += 1.0
        if cls == 1:
            image[0, y + 2 : y + h - 2, x + 2 : x + w - 2] -= 1.0  # hollow
        ct = torch.tensor([(x + w / 2) / R, (y + h / 2) / R])
        ct_int = ct.int()
        radius = max(0, int(gaussian_radius((math.ceil(h / R), math.ceil(w / R)))))
        draw_umich_gaussian(hm[cls], ct_int, radius)
        wh[k] = torch.tensor([w / R, h / R])
        ind[k] = ct_int[1] * OUT + ct_int[0]
        reg[k] = ct - ct_int
        reg_mask[k] = 1
    return image, hm, wh, reg, ind, reg_mask


def _sigmoid(x):
    return torch.clamp(x.sigmoid_(), min=1e-4, max=1 - 1e-4)


def _neg_loss(pred, gt):
    pos_inds = gt.eq(1).float()
    neg_inds = gt.lt(1).float()
    neg_weights = torch.pow(1 - gt, 4)
    pos_loss = (torch.log(pred) * torch.pow(1 - pred, 2) * pos_inds).sum()
    neg_loss = (torch.log(1 - pred) * torch.pow(pred, 2) * neg_weights * neg_inds).sum()
    num_pos = pos_inds.float().sum()
    return -neg_loss if num_pos == 0 else -(pos_loss + neg_loss) / num_pos


def _gather_feat(feat, ind):
    dim = feat.size(2)
    ind = ind.unsqueeze(2).expand(ind.size(0), ind.size(1), dim)
    return feat.gather(1, ind)


def _transpose_and_gather_feat(feat, ind):
    feat = feat.permute(0, 2, 3, 1).contiguous()
    feat = feat.view(feat.size(0), -1, feat.size(3))
    return _gather_feat(feat, ind)


class RegL1Loss(nn.Module):
    def forward(self, output, mask, ind, target):
        pred = _transpose_and_gather_feat(output, ind)
        mask = mask.unsqueeze(2).expand_as(pred).float()
        loss = F.l1_loss(pred * mask, target * mask, reduction="sum")
        return loss / (mask.sum() + 1e-4)


class CenterNetHead(nn.Module):
    def __init__(self, ch=32):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, ch, 3, 2, 1), nn.BatchNorm2d(ch), nn.ReLU(inplace=True),
            nn.Conv2d(ch, ch, 3, 2, 1), nn.BatchNorm2d(ch), nn.ReLU(inplace=True),
            nn.Conv2d(ch, ch, 3, 1, 1), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.heads = nn.ModuleDict({name: nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(inplace=True),
                                                        nn.Conv2d(ch, out, 1))
                                    for name, out in [("hm", C), ("wh", 2), ("reg", 2)]})  # fmt: skip
        self.heads["hm"][-1].bias.data.fill_(-2.19)  # prior probability 0.1

    def forward(self, x):
        feat = self.backbone(x)
        return {name: head(feat) for name, head in self.heads.items()}


def _nms(heat, kernel=3):
    hmax = F.max_pool2d(heat, (kernel, kernel), stride=1, padding=(kernel - 1) // 2)
    keep = (hmax == heat).float()
    return heat * keep


def _topk(scores, K=5):
    batch, cat, height, width = scores.size()
    topk_scores, topk_inds = torch.topk(scores.view(batch, cat, -1), K)
    topk_inds = topk_inds % (height * width)
    topk_ys, topk_xs = (topk_inds // width).float(), (topk_inds % width).int().float()
    topk_score, topk_ind = torch.topk(topk_scores.view(batch, -1), K)
    topk_clses = (topk_ind // K).int()
    topk_inds = _gather_feat(topk_inds.view(batch, -1, 1), topk_ind).view(batch, K)
    topk_ys = _gather_feat(topk_ys.view(batch, -1, 1), topk_ind).view(batch, K)
    topk_xs = _gather_feat(topk_xs.view(batch, -1, 1), topk_ind).view(batch, K)
    return topk_score, topk_inds, topk_clses, topk_ys, topk_xs


def batch(n):
    return [torch.stack(t) for t in zip(*[make_sample() for _ in range(n)])]


model = CenterNetHead()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
crit_reg = RegL1Loss()
hm_losses, wh_losses, off_losses = [], [], []
for step in range(40):
    image, hm, wh, reg, ind, reg_mask = batch(8)
    out = model(image)
    hm_loss = _neg_loss(_sigmoid(out["hm"]), hm)
    wh_loss = crit_reg(out["wh"], reg_mask, ind, wh)
    off_loss = crit_reg(out["reg"], reg_mask, ind, reg)
    loss = hm_loss + 0.1 * wh_loss + off_loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    hm_losses.append(hm_loss.item())
    wh_losses.append(wh_loss.item())
    off_losses.append(off_loss.item())

model.eval()
with torch.no_grad():
    image, hm, wh, reg, ind, reg_mask = batch(4)
    out = model(image)
    heat = _nms(out["hm"].sigmoid_())
    scores, inds, clses, ys, xs = _topk(heat, K=5)
    sizes = _transpose_and_gather_feat(out["wh"], inds)
    peaks_kept = (heat > 0).float().sum().item()
    top_scores = scores[:, 0].tolist()
    centre_hits = (inds[:, :1] == ind[:, :]).any(1).float().mean().item()
    detections = torch.cat(
        [xs[..., None], ys[..., None], sizes, scores[..., None], clses[..., None].float()], 2
    )
radius_values = [gaussian_radius((h, w)) for h, w in [(2, 2), (3, 1), (4, 3)]]
peak_map = draw_umich_gaussian(torch.zeros(5, 5), torch.tensor([0, 2]), 1)[:3, :3].tolist()
