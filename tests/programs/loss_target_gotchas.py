"""Loss functions fed the way Stack Overflow questions feed them: ``CrossEntropyLoss`` given
logits (not softmax outputs) with class indices, with class probabilities (soft targets, the same
loss for one-hot targets), with ``label_smoothing`` on both kinds, ``weight`` with indices (a
weighted mean) and with probabilities (a plain mean), ``ignore_index``, a float target of
indices and a one-hot Long target (the errors), the ``(N, C, d)`` layout for sequences and its
error when the class dim is last; ``NLLLoss`` after ``log_softmax`` over the wrong dim (a
silently different loss); ``BCEWithLogitsLoss`` with ``pos_weight`` of shape ``(C,)``
broadcasting over the batch, against ``BCELoss`` on sigmoid outputs, and its shape errors;
``MSELoss`` with a ``(N, 1)`` output and an ``(N,)`` target (a broadcast warning and a wrong
loss). A small classifier is trained with soft targets and label smoothing."""

import warnings

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


logits = torch.randn(5, 4)
labels = torch.tensor([0, 3, 1, 1, 2])
one_hot = F.one_hot(labels, 4).float()

ce = nn.CrossEntropyLoss()
same_for_one_hot = [ce(logits, labels).item(), ce(logits, one_hot).item()]
# softmax before CrossEntropyLoss: a smaller, wrong loss (softmax applied twice)
double_softmax = ce(logits.softmax(dim=1), labels).item()
soft = torch.softmax(torch.randn(5, 4), dim=1)
soft_loss = ce(logits, soft).item()
smoothing = [
    nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels).item(),
    nn.CrossEntropyLoss(label_smoothing=0.1)(logits, one_hot).item(),
    nn.CrossEntropyLoss(label_smoothing=0.1)(logits, soft).item(),
]
w = torch.tensor([1.0, 2.0, 0.5, 3.0])
weighted = [
    nn.CrossEntropyLoss(weight=w)(logits, labels).item(),  # divides by the picked weights' sum
    nn.CrossEntropyLoss(weight=w)(logits, one_hot).item(),  # divides by N
    nn.CrossEntropyLoss(weight=w, reduction="sum")(logits, labels).item(),
    nn.CrossEntropyLoss(weight=w, label_smoothing=0.2)(logits, labels).item(),
]
ignored = torch.tensor([0, -100, 1, -100, 2])
ignore = [
    ce(logits, ignored).item(),
    nn.CrossEntropyLoss(reduction="none")(logits, ignored).tolist(),
    nn.CrossEntropyLoss(ignore_index=1)(logits, labels).item(),
    nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.3)(logits, labels).item(),
]
all_ignored = nn.CrossEntropyLoss()(logits[:2], torch.tensor([-100, -100])).item()

ce_errors = [
    error_of(lambda: ce(logits, labels.float())),  # float indices: taken as probabilities
    error_of(lambda: ce(logits, one_hot.long())),  # Long one-hot: taken as indices
    error_of(lambda: ce(logits, torch.tensor([0, 4, 1, 1, 2]))),
    error_of(lambda: ce(logits, labels[:3])),
    error_of(lambda: nn.CrossEntropyLoss(ignore_index=1)(logits, soft)),
]

# Sequences: (N, C, T) logits with (N, T) targets, the class dim second.
seq_logits = torch.randn(2, 6, 4)  # (N, T, C) as a model returns it
seq_targets = torch.randint(0, 4, (2, 6))
seq_loss = ce(seq_logits.transpose(1, 2), seq_targets).item()
flat_loss = ce(seq_logits.reshape(-1, 4), seq_targets.reshape(-1)).item()
seq_error = error_of(lambda: ce(seq_logits, seq_targets))

# NLLLoss after log_softmax over the wrong dim: no error, a different number.
nll = nn.NLLLoss()
nll_values = [
    nll(F.log_softmax(logits, dim=1), labels).item(),
    nll(F.log_softmax(logits, dim=0), labels).item(),
    F.cross_entropy(logits, labels).item(),
]
nll_error = error_of(lambda: nll(F.log_softmax(logits, dim=1), one_hot))

# BCEWithLogitsLoss with pos_weight per class, broadcast over the batch.
multi_logits = torch.randn(6, 3)
multi_targets = (torch.rand(6, 3) > 0.7).float()
pos_weight = torch.tensor([1.0, 3.0, 0.5])
bce_values = [
    nn.BCEWithLogitsLoss(pos_weight=pos_weight)(multi_logits, multi_targets).item(),
    nn.BCEWithLogitsLoss()(multi_logits, multi_targets).item(),
    nn.BCELoss()(torch.sigmoid(multi_logits), multi_targets).item(),
    nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0))(multi_logits, multi_targets).item(),
    nn.BCEWithLogitsLoss(weight=torch.tensor([1.0, 0.0, 2.0]))(multi_logits, multi_targets).item(),
]
bce_errors = [
    error_of(lambda: nn.BCEWithLogitsLoss()(multi_logits[:, :1], multi_targets[:, 0])),
    error_of(lambda: nn.BCELoss()(torch.sigmoid(multi_logits[:, 0]), multi_targets[:, :1])),
    error_of(lambda: nn.BCELoss()(multi_logits, multi_targets)),  # logits outside [0, 1]
    error_of(lambda: nn.BCEWithLogitsLoss()(multi_logits, multi_targets.long())),
]

# MSELoss with (N, 1) predictions and (N,) targets broadcasts to (N, N).
pred = torch.randn(4, 1)
target = torch.randn(4)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    broadcast_mse = F.mse_loss(pred, target).item()
mse_warning = [str(c.message) for c in caught if "target size" in str(c.message)]
right_mse = F.mse_loss(pred.squeeze(1), target).item()

# A small classifier trained on soft targets with label smoothing.
x = torch.randn(40, 6)
teacher = torch.softmax(x @ torch.randn(6, 3), dim=1)
model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.5)
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
losses = []
for step in range(25):
    opt.zero_grad()
    loss = loss_fn(model(x), teacher)
    loss.backward()
    opt.step()
    losses.append(loss.item())
agreement = (model(x).argmax(1) == teacher.argmax(1)).float().mean().item()
