"""Semi-supervised learning on two moons with a handful of labels: FixMatch (Sohn et al. 2020)
and Mean Teacher (Tarvainen and Valpola 2017), as their PyTorch reference repositories write
them. FixMatch pseudo-labels a weakly augmented view (small jitter) where the model's softmax
confidence passes a threshold, and trains the strongly augmented view (jitter, random feature
scaling and cutout-like masking) on those hard labels through a ``ge`` confidence mask, with
``reduction="none"`` cross-entropy. Mean Teacher keeps an EMA teacher by
``torch.optim.swa_utils.AveragedModel(multi_avg_fn=get_ema_multi_avg_fn(...))`` with
``use_buffers=True`` and adds a consistency MSE between student and teacher softmaxes, its weight
ramped up by the sigmoid schedule ``exp(-5 (1 - t)^2)``."""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

torch.manual_seed(0)


def make_moons(n, noise=0.1):
    t = torch.rand(n) * math.pi
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    y = torch.randint(0, 2, (n,))
    x = torch.where(y[:, None] == 0, upper, lower) + noise * torch.randn(n, 2)
    return x, y


x_unlab, y_unlab = make_moons(256)
x_test, y_test = make_moons(200)
labelled_idx = torch.cat([(y_unlab == c).nonzero()[:4, 0] for c in (0, 1)])
x_lab, y_lab = x_unlab[labelled_idx], y_unlab[labelled_idx]


def weak(x):
    return x + 0.05 * torch.randn_like(x)


def strong(x):
    scale = torch.empty(x.size(0), 1).uniform_(0.8, 1.2)
    keep = (torch.rand_like(x) > 0.2).float()
    return (x * scale + 0.15 * torch.randn_like(x)) * keep


def make_model():
    return nn.Sequential(
        nn.Linear(2, 32, bias=False), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2)
    )


def accuracy(model):
    model.eval()
    with torch.no_grad():
        acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    model.train()
    return acc


STEPS = 30
torch.manual_seed(1)
model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
fixmatch_log = []
for step in range(STEPS):
    u = x_unlab[torch.randint(0, len(x_unlab), (48,))]
    inputs = torch.cat([weak(x_lab), weak(u), strong(u)])
    logits = model(inputs)
    logits_x = logits[: len(x_lab)]
    logits_u_w, logits_u_s = logits[len(x_lab) :].chunk(2)
    loss_x = F.cross_entropy(logits_x, y_lab)
    probs = torch.softmax(logits_u_w.detach(), dim=-1)
    max_probs, targets_u = torch.max(probs, dim=-1)
    mask = max_probs.ge(0.9).float()
    loss_u = (F.cross_entropy(logits_u_s, targets_u, reduction="none") * mask).mean()
    loss = loss_x + 1.0 * loss_u
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 9:
        fixmatch_log.append([loss_x.item(), loss_u.item(), mask.mean().item()])
fixmatch_acc = accuracy(model)


def sigmoid_rampup(current, length):
    phase = 1.0 - min(current, length) / length
    return math.exp(-5.0 * phase * phase)


torch.manual_seed(1)
student = make_model()
teacher = AveragedModel(student, multi_avg_fn=get_ema_multi_avg_fn(0.95), use_buffers=True)
opt = torch.optim.Adam(student.parameters(), lr=1e-2)
mt_log = []
for step in range(STEPS):
    u = x_unlab[torch.randint(0, len(x_unlab), (48,))]
    x = torch.cat([x_lab, u])
    student_logits = student(weak(x))
    with torch.no_grad():
        teacher_logits = teacher(weak(x))
    class_loss = F.cross_entropy(student_logits[: len(x_lab)], y_lab)
    consistency = F.mse_loss(student_logits.softmax(-1), teacher_logits.softmax(-1))
    loss = class_loss + 10.0 * sigmoid_rampup(step, 20) * consistency
    opt.zero_grad()
    loss.backward()
    opt.step()
    teacher.update_parameters(student)
    if step % 10 == 9:
        mt_log.append([class_loss.item(), consistency.item()])
student_acc, teacher_acc = accuracy(student), accuracy(teacher)
n_averaged = teacher.n_averaged.item()
teacher_running_mean = teacher.module[1].running_mean[:4].tolist()
student_running_mean = student[1].running_mean[:4].tolist()
