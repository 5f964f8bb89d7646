"""Preference-optimisation losses as TRL's trainers and the papers' reference code write them,
on a tiny GRU policy: a Bradley-Terry reward model (``-F.logsigmoid(r_chosen - r_rejected)``),
SimPO (length-normalised log-probabilities with a target margin, no reference model), ORPO
(negative log-likelihood plus a log-odds ratio term with ``torch.log1p(-torch.exp(...))``) and
KTO (unpaired desirable / undesirable examples against a detached, clamped KL estimate from a
frozen ``copy.deepcopy`` reference). Sequence log-probabilities come from ``log_softmax`` and
``gather`` with prompt tokens masked by ``-100`` labels. Each loss trains from the same start."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, PROMPT, RESPONSE, N = 12, 4, 5, 16


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16)
        self.gru = nn.GRU(16, 32, batch_first=True)
        self.head = nn.Linear(32, VOCAB)

    def forward(self, tokens):
        return self.head(self.gru(self.embed(tokens))[0])


def sequence_logps(model, tokens, labels, average=False):
    logits = model(tokens[:, :-1])
    labels = labels[:, 1:].clone()
    mask = labels != -100
    labels[~mask] = 0
    per_token = torch.gather(logits.log_softmax(-1), 2, labels.unsqueeze(2)).squeeze(2)
    total = (per_token * mask).sum(-1)
    return total / mask.sum(-1) if average else total


prompts = torch.randint(0, VOCAB, (N, PROMPT))
chosen = torch.cat(
    [prompts, torch.sort(prompts, dim=1).values[:, :RESPONSE].repeat(1, 2)[:, :RESPONSE]], 1
)
rejected = torch.cat([prompts, torch.randint(0, VOCAB, (N, RESPONSE))], 1)
labels_c, labels_r = chosen.clone(), rejected.clone()
labels_c[:, :PROMPT] = -100
labels_r[:, :PROMPT] = -100

# Bradley-Terry reward model: a scalar head on the last hidden state
reward_model = Policy()
reward_model.head = nn.Linear(32, 1)
optimizer = torch.optim.AdamW(reward_model.parameters(), lr=1e-2)
rm_losses = []
for step in range(6):
    r_c, r_r = reward_model(chosen)[:, -1, 0], reward_model(rejected)[:, -1, 0]
    loss = -F.logsigmoid(r_c - r_r).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    rm_losses.append(loss.item())
rm_accuracy = (r_c > r_r).float().mean().item()

start = Policy()
reference = copy.deepcopy(start).requires_grad_(False).eval()
BETA, GAMMA, ORPO_LAMBDA = 2.0, 0.5, 0.5


def simpo(policy):
    avg_c = sequence_logps(policy, chosen, labels_c, average=True)
    avg_r = sequence_logps(policy, rejected, labels_r, average=True)
    return -F.logsigmoid(BETA * (avg_c - avg_r) - GAMMA).mean()


def orpo(policy):
    avg_c = sequence_logps(policy, chosen, labels_c, average=True)
    avg_r = sequence_logps(policy, rejected, labels_r, average=True)
    log_odds = (avg_c - avg_r) - (torch.log1p(-torch.exp(avg_c)) - torch.log1p(-torch.exp(avg_r)))
    return -avg_c.mean() - ORPO_LAMBDA * F.logsigmoid(log_odds).mean()


def kto(policy):
    desirable, undesirable = chosen[: N // 2], rejected[N // 2 :]  # unpaired halves
    lab_d, lab_u = labels_c[: N // 2], labels_r[N // 2 :]
    mismatched = torch.cat([prompts[: N // 2], rejected[N // 2 :, PROMPT:]], 1)  # KL pairs
    lab_kl = mismatched.clone()
    lab_kl[:, :PROMPT] = -100
    with torch.no_grad():
        ref_d, ref_u = (
            sequence_logps(reference, desirable, lab_d),
            sequence_logps(reference, undesirable, lab_u),
        )
        ref_kl = sequence_logps(reference, mismatched, lab_kl)
    kl = (sequence_logps(policy, mismatched, lab_kl) - ref_kl).mean().clamp(min=0).detach()
    ratio_d = sequence_logps(policy, desirable, lab_d) - ref_d
    ratio_u = sequence_logps(policy, undesirable, lab_u) - ref_u
    losses = torch.cat([1 - F.sigmoid(BETA * (ratio_d - kl)), 1 - F.sigmoid(BETA * (kl - ratio_u))])
    return losses.mean(), kl


results = {}
for name, loss_fn in [("simpo", simpo), ("orpo", orpo), ("kto", kto)]:
    policy = copy.deepcopy(start)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
    losses, kls = [], []
    for step in range(6):
        loss = loss_fn(policy)
        if isinstance(loss, tuple):
            loss, kl = loss
            kls.append(kl.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        margin = (
            sequence_logps(policy, chosen, labels_c, True)
            - sequence_logps(policy, rejected, labels_r, True)
        ).mean()
    results[name] = {"losses": losses, "margin": margin.item(), "kls": kls}

start_margin = (
    (
        sequence_logps(start, chosen, labels_c, True)
        - sequence_logps(start, rejected, labels_r, True)
    )
    .mean()
    .item()
)
reference_frozen = not any(p.requires_grad for p in reference.parameters())
label_mask_count = (labels_c[:, 1:] != -100).sum().item()
