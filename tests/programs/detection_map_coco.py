"""Mean average precision for object detection, written by hand as in the VOC and COCO
reference evaluators: pairwise IoU with broadcasting, detections sorted by score with
``sort(descending=True, stable=True)`` (equal scores keep their input order), greedy matching
to the best unmatched ground truth above an IoU threshold with ``crowd``-style ignored boxes,
cumulative true/false positives, the precision envelope by a reversed ``cummax``, VOC's
all-point AP and COCO's 101-point interpolation read with ``searchsorted``, over IoU
thresholds 0.50:0.95, plus ``torch.unique`` of the classes and a size-range filter."""

import torch

torch.manual_seed(0)


def box_iou(a, b):
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def random_boxes(n, size=64.0):
    xy = torch.rand(n, 2) * size * 0.75
    wh = torch.rand(n, 2) * size * 0.25 + 8
    return torch.cat([xy, xy + wh], dim=1)


# ground truth: 2 images, 3 classes; detections: jittered copies plus false alarms.
images = []
for i in range(2):
    gt = random_boxes(5)
    gt_labels = torch.randint(0, 3, (5,))
    ignore = torch.zeros(5, dtype=torch.bool)
    ignore[i % 5] = i == 2  # one "difficult" box in image 2
    jitter = torch.randn(5, 4) * 1.2
    det = torch.cat([gt + jitter, random_boxes(3)])
    det_labels = torch.cat([gt_labels, torch.randint(0, 3, (3,))])
    scores = torch.cat([torch.rand(5) * 0.5 + 0.5, torch.rand(3) * 0.7])
    scores = torch.round(scores, decimals=1)  # ties between detections
    images.append((gt, gt_labels, ignore, det, det_labels, scores))


def match_class(cls, iou_thr):
    """Per-detection TP flags (sorted by score) and the number of counted ground truths."""
    all_scores, all_tp, all_skip, n_gt = [], [], [], 0
    for gt, gl, ign, det, dl, sc in images:
        g, gi = gt[gl == cls], ign[gl == cls]
        d, s = det[dl == cls], sc[dl == cls]
        n_gt += int((~gi).sum())
        order = torch.sort(s, descending=True, stable=True).indices
        d, s = d[order], s[order]
        tp = torch.zeros(len(d))
        skip = torch.zeros(len(d), dtype=torch.bool)
        if len(g):
            ious = box_iou(d, g)
            taken = torch.zeros(len(g), dtype=torch.bool)
            for k in range(len(d)):
                cand = ious[k].masked_fill(taken, -1.0)
                best_iou, best = cand.max(dim=0)
                if best_iou >= iou_thr:
                    if gi[best]:
                        skip[k] = True  # matched an ignored box: neither TP nor FP
                    else:
                        tp[k] = 1.0
                        taken[best] = True
        all_scores.append(s)
        all_tp.append(tp)
        all_skip.append(skip)
    scores = torch.cat(all_scores)
    order = torch.sort(scores, descending=True, stable=True).indices
    keep = ~torch.cat(all_skip)[order]
    return torch.cat(all_tp)[order][keep], n_gt


def precision_recall(tp, n_gt):
    tp_cum = torch.cumsum(tp, dim=0)
    fp_cum = torch.cumsum(1 - tp, dim=0)
    recall = tp_cum / max(n_gt, 1)
    precision = tp_cum / (tp_cum + fp_cum).clamp(min=torch.finfo(torch.float32).eps)
    return precision, recall


def voc_ap(precision, recall):
    mrec = torch.cat([torch.tensor([0.0]), recall, torch.tensor([1.0])])
    mpre = torch.cat([torch.tensor([0.0]), precision, torch.tensor([0.0])])
    envelope = mpre.flip(0).cummax(dim=0).values.flip(0)
    steps = torch.where(mrec[1:] != mrec[:-1])[0]
    return ((mrec[steps + 1] - mrec[steps]) * envelope[steps + 1]).sum()


def coco_ap(precision, recall):
    envelope = precision.flip(0).cummax(dim=0).values.flip(0)
    rec_thrs = torch.linspace(0, 1, 101)
    idx = torch.searchsorted(recall, rec_thrs, side="left")
    valid = idx < len(recall)
    q = torch.zeros(101)
    q[valid] = envelope[idx[valid]]
    return q.mean()


classes = torch.unique(torch.cat([im[1] for im in images])).tolist()
voc = []
coco = torch.zeros(10, len(classes))
envelopes = []
for c_i, cls in enumerate(classes):
    for t_i, thr in enumerate(torch.arange(0.5, 0.951, 0.05).tolist()):
        precision, recall = precision_recall(*match_class(cls, thr))
        coco[t_i, c_i] = coco_ap(precision, recall)
        if t_i == 0:  # VOC: AP at IoU 0.5 over all recall points
            voc.append(voc_ap(precision, recall).item())
            envelopes.append(precision.flip(0).cummax(0).values.flip(0).tolist())

voc_map = sum(voc) / len(voc)
coco_map = coco.mean().item()
ap50, ap75 = coco[0].mean().item(), coco[5].mean().item()
coco_table = coco.tolist()
iou_sample = box_iou(images[0][3][:3], images[0][0][:3]).tolist()
first_order = torch.sort(images[1][5], descending=True, stable=True).indices.tolist()
thresholds = torch.arange(0.5, 0.951, 0.05).tolist()

# size filter (COCO's "small" range: area < 32**2) on the ground truth of image 0.
gt0 = images[0][0]
areas = (gt0[:, 2] - gt0[:, 0]) * (gt0[:, 3] - gt0[:, 1])
small = (areas < 32**2).nonzero(as_tuple=True)[0].tolist()
