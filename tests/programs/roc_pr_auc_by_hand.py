"""Binary and multi-class evaluation written by hand, as people do before (or instead of)
torchmetrics: ROC-AUC and PR-AUC by sorting the scores and taking cumulative sums, with tied
scores merged into one threshold (``torch.where`` on the sorted scores' ``diff``), the
trapezoid rule (``torch.trapezoid``), average precision as sklearn defines it, AUC as the
Mann-Whitney statistic with average ranks for ties, a confusion matrix by ``bincount`` of
``target * C + pred``, precision/recall/F1 per class, macro and micro F1 (0/0 counted as 0), and
Matthews correlation — on a small logistic-regression classifier trained here."""

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def binary_clf_curve(scores, labels):
    """False and true positive counts at each distinct threshold, highest first."""
    order = torch.argsort(scores, descending=True, stable=True)
    scores, labels = scores[order], labels[order].float()
    distinct = torch.where(scores[1:] - scores[:-1] != 0)[0]
    ends = torch.cat([distinct, torch.tensor([labels.numel() - 1])])
    tps = torch.cumsum(labels, dim=0)[ends]
    fps = (1 + ends) - tps
    return fps, tps, scores[ends]


def roc_auc(scores, labels):
    fps, tps, thresholds = binary_clf_curve(scores, labels)
    fpr = torch.cat([torch.zeros(1), fps / fps[-1]])
    tpr = torch.cat([torch.zeros(1), tps / tps[-1]])
    return torch.trapezoid(tpr, fpr), fpr, tpr, thresholds


def average_precision(scores, labels):
    fps, tps, _ = binary_clf_curve(scores, labels)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    recall_steps = torch.diff(recall, prepend=torch.zeros(1))
    return (recall_steps * precision).sum(), precision, recall


def mann_whitney_auc(scores, labels):
    """AUC = P(score_pos > score_neg) + 0.5 P(tie), from average ranks of the scores."""
    sorted_scores, order = scores.sort()
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, scores.numel() + 1, dtype=scores.dtype)
    uniq, inverse, counts = torch.unique(sorted_scores, return_inverse=True, return_counts=True)
    rank_sums = torch.zeros(uniq.numel()).index_add_(0, inverse, ranks[order])
    avg = (rank_sums / counts)[inverse]
    ranks[order] = avg
    n_pos = labels.sum()
    n_neg = labels.numel() - n_pos
    return (ranks[labels.bool()].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


# data: two overlapping Gaussian blobs, then a 3-class problem.
n = 120
x = torch.randn(n, 2)
y = (x[:, 0] + 0.8 * x[:, 1] + 0.7 * torch.randn(n) > 0).long()
model = torch.nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.5)
losses = []
for _ in range(30):
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y.float())
    loss.backward()
    opt.step()
    losses.append(loss.item())

with torch.no_grad():
    probs = torch.sigmoid(model(x).squeeze(1))
# rounding to two decimals makes ties, which the curve must merge into one threshold.
scores = torch.round(probs, decimals=1)
auc, fpr, tpr, thresholds = roc_auc(scores, y)
ap, precision, recall = average_precision(scores, y)
mw_auc = mann_whitney_auc(scores, y)
exact_auc = roc_auc(probs, y)[0]
n_thresholds = thresholds.numel()
roc_points = [fpr.tolist(), tpr.tolist()]
pr_points = [precision.tolist(), recall.tolist()]
auc_values = [auc.item(), ap.item(), mw_auc.item(), exact_auc.item()]
auc_dtype = str(auc.dtype)

# Youden's J: the threshold that maximises tpr - fpr (first on ties).
j = tpr[1:] - fpr[1:]
best_threshold = thresholds[j.argmax()].item()

# multi-class: confusion matrix by bincount, per-class and averaged F1, MCC.
C = 4
target = torch.randint(0, C, (200,))
noise = torch.randint(0, C, (200,))
pred = torch.where(torch.rand(200) < 0.6, target, noise)
pred[pred == 3] = 2  # class 3 is never predicted: its precision is 0/0
confusion = torch.bincount(target * C + pred, minlength=C * C).reshape(C, C)
tp = confusion.diag()
support = confusion.sum(1)
predicted = confusion.sum(0)
precision_c = torch.nan_to_num(tp / predicted, nan=0.0)
recall_c = tp / support
f1_c = torch.nan_to_num(2 * precision_c * recall_c / (precision_c + recall_c), nan=0.0)
macro_f1 = f1_c.mean()
weighted_f1 = (f1_c * support).sum() / support.sum()
micro_f1 = tp.sum() / confusion.sum()
accuracy = (pred == target).float().mean()
cov_ytyp = (tp.sum() * confusion.sum() - (support * predicted).sum()).double()
mcc = cov_ytyp / torch.sqrt(
    (confusion.sum() ** 2 - (predicted**2).sum()).double()
    * (confusion.sum() ** 2 - (support**2).sum()).double()
)
class_metrics = [confusion.tolist(), precision_c.tolist(), recall_c.tolist(), f1_c.tolist()]
averaged = [macro_f1.item(), weighted_f1.item(), micro_f1.item(), accuracy.item(), mcc.item()]
dtypes = [str(confusion.dtype), str((tp / predicted).dtype), str(mcc.dtype)]
raw_precision = (tp / predicted).tolist()  # nan where a class is never predicted

# One-vs-rest macro AUC over the classes, with softmax scores from fixed logits.
logits = torch.randn(200, C) + 1.5 * F.one_hot(target, C)
ovr = torch.stack([roc_auc(logits.softmax(1)[:, c], (target == c).long())[0] for c in range(C)])
ovr_auc = ovr.tolist()
