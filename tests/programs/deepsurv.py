"""DeepSurv (Katzman et al. 2018): a network that outputs a log-risk per patient, trained with
the negative Cox partial log-likelihood written the way the PyTorch ports write it (sort by
time descending, torch.logcumsumexp for the risk sets, mask by the event indicator), checked
against the loop over risk sets by hand, and scored with Harrell's concordance index computed
by broadcasting over all pairs."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn

rng = np.random.default_rng(0)
n, d = 200, 5
x = randn(rng, n, d)
true_risk = (x[:, 0] - 0.5 * x[:, 1] + 0.5 * x[:, 2] ** 2).numpy()
event_time = rng.exponential(1.0 / np.exp(true_risk))
censor_time = rng.exponential(2.0, n)
time = torch.from_numpy(np.minimum(event_time, censor_time).astype(np.float32))
event = torch.from_numpy((event_time <= censor_time).astype(np.float32))


def cox_ph_loss(log_h, durations, events, eps=1e-7):
    order = durations.argsort(descending=True)
    log_h, events = log_h[order], events[order]
    log_cumsum_h = torch.logcumsumexp(log_h, dim=0)
    return -((log_h - log_cumsum_h) * events).sum() / events.sum().clamp(min=eps)


def cox_loss_by_hand(log_h, durations, events):
    total = 0.0
    for i in range(len(durations)):
        if events[i] > 0:
            at_risk = durations >= durations[i]
            total = total + log_h[i] - torch.log(torch.exp(log_h[at_risk]).sum())
    return -total / events.sum()


def concordance_index(risk, durations, events):
    earlier = durations.unsqueeze(1) < durations.unsqueeze(0)  # i failed before j
    comparable = earlier & (events.unsqueeze(1) > 0)
    concordant = (risk.unsqueeze(1) > risk.unsqueeze(0)) & comparable
    ties = (risk.unsqueeze(1) == risk.unsqueeze(0)) & comparable
    return ((concordant.sum() + 0.5 * ties.sum()) / comparable.sum()).item()


model = init_from_numpy(
    nn.Sequential(nn.Linear(d, 16), nn.SELU(), nn.AlphaDropout(0.0), nn.Linear(16, 1))
)
optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-4)
losses = []
for epoch in range(60):
    optimizer.zero_grad()
    loss = cox_ph_loss(model(x).squeeze(1), time, event)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"Cox partial likelihood loss {losses[0]:.4f} -> {losses[-1]:.4f}")

with torch.no_grad():
    risk = model(x).squeeze(1)
    formula_gap = abs(
        cox_ph_loss(risk, time, event).item() - cox_loss_by_hand(risk, time, event).item()
    )
c_index = concordance_index(risk, time, event)
c_index_true = concordance_index(torch.from_numpy(true_risk.astype(np.float32)), time, event)
print(f"c-index {c_index:.3f} (true risk {c_index_true:.3f}); loop gap {formula_gap:.1e}")
