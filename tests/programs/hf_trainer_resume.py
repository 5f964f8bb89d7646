"""A HuggingFace-Trainer-style loop: AdamW with a no-decay parameter group (biases and LayerNorm
weights), ``get_linear_schedule_with_warmup`` written with LambdaLR, gradient accumulation,
``clip_grad_norm_`` (its returned total norm logged), ``model.train()``/``model.eval()``; half
way a checkpoint ``{'model', 'optimizer', 'scheduler', 'step'}`` is written with torch.save to a
buffer, a fresh model/optimizer/scheduler is resumed from it with torch.load, and both runs go on:
the resumed run must match the uninterrupted one exactly."""

import io

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.optim.lr_scheduler import LambdaLR

rng = np.random.default_rng(3)
features = randn(rng, 64, 10)
targets = (features[:, :3].sum(1) > 0).long()


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps):
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(
            0.0,
            float(num_training_steps - current_step)
            / float(max(1, num_training_steps - num_warmup_steps)),
        )

    return LambdaLR(optimizer, lr_lambda, last_epoch=-1)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(10, 32)
        self.LayerNorm = nn.LayerNorm(32)
        self.dropout = nn.Dropout(0.0)
        self.classifier = nn.Linear(32, 2)

    def forward(self, x, labels=None):
        logits = self.classifier(self.dropout(torch.tanh(self.LayerNorm(self.dense(x)))))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


def build():
    model = init_from_numpy(Classifier(), seed=5)
    no_decay = ["bias", "LayerNorm.weight"]
    grouped = [
        {
            "params": [
                p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)
            ],
            "weight_decay": 0.01,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(grouped, lr=5e-3, eps=1e-8)
    scheduler = get_linear_schedule_with_warmup(optimizer, 4, 24)
    return model, optimizer, scheduler


def train_steps(model, optimizer, scheduler, start, stop, accumulation=2, log=None):
    model.train()
    for step in range(start, stop):
        for micro in range(accumulation):
            rows = slice((2 * step + micro) % 8 * 8, (2 * step + micro) % 8 * 8 + 8)
            out = model(features[rows], labels=targets[rows])
            (out["loss"] / accumulation).backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        if log is not None:
            log.append((out["loss"].item(), norm.item(), scheduler.get_last_lr()[0]))


def evaluate(model):
    model.eval()
    with torch.no_grad():
        logits = model(features)["logits"]
    return logits.argmax(-1).eq(targets).float().mean().item(), logits[:4].tolist()


model, optimizer, scheduler = build()
log = []
train_steps(model, optimizer, scheduler, 0, 12, log=log)
buffer = io.BytesIO()
torch.save(
    {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "step": 12,
    },
    buffer,
)
train_steps(model, optimizer, scheduler, 12, 24, log=log)
accuracy, logits_straight = evaluate(model)

buffer.seek(0)
checkpoint = torch.load(buffer)
model2, optimizer2, scheduler2 = build()
model2.load_state_dict(checkpoint["model"])
optimizer2.load_state_dict(checkpoint["optimizer"])
scheduler2.load_state_dict(checkpoint["scheduler"])
resumed_log = []
train_steps(model2, optimizer2, scheduler2, checkpoint["step"], 24, log=resumed_log)
_, logits_resumed = evaluate(model2)
resume_gap = max(
    abs(a - b) for r1, r2 in zip(logits_straight, logits_resumed) for a, b in zip(r1, r2)
)
log_matches = resumed_log == log[12:]
group_sizes = [len(g["params"]) for g in optimizer.param_groups]
final_lrs = [g["lr"] for g in optimizer.param_groups]
