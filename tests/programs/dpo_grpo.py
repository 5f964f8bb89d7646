"""Preference and RL fine-tuning losses for language models as TRL's trainers write them: the
per-sequence log-probability of the response tokens (``log_softmax`` + ``torch.gather`` of the
shifted labels, prompt and padding positions marked ``-100``), DPO (Rafailov et al. 2023) with
label smoothing and the IPO variant against a frozen reference model (``copy.deepcopy`` then
``requires_grad_(False)``), implicit rewards and reward accuracy; then GRPO (Shao et al. 2024):
a group of completions per prompt sampled with ``torch.multinomial``, group-normalized
advantages, the clipped importance ratio and the k3 KL estimator against the reference."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, GOOD = 10, 7  # the "preferred" responses use token 7 often


class TinyLM(nn.Module):
    def __init__(self, dim=24):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.head = nn.Linear(dim, VOCAB)

    def forward(self, ids):
        return self.head(self.rnn(self.emb(ids))[0])


def sequence_logps(logits, labels):
    labels = labels[:, 1:].clone()
    logits = logits[:, :-1, :]
    loss_mask = labels != -100
    labels[labels == -100] = 0  # a dummy token; masked out below
    per_token = torch.gather(logits.log_softmax(-1), dim=2, index=labels.unsqueeze(2)).squeeze(2)
    return (per_token * loss_mask).sum(-1), per_token, loss_mask


def make_pairs(n, prompt_len=3, response_len=5):
    prompts = torch.randint(0, VOCAB, (n, prompt_len))
    chosen = torch.where(torch.rand(n, response_len) < 0.6, GOOD, torch.randint(0, VOCAB, (n, 5)))
    rejected = torch.randint(0, VOCAB, (n, response_len))
    ids = torch.cat([torch.cat([prompts, chosen], 1), torch.cat([prompts, rejected], 1)])
    labels = ids.clone()
    labels[:, :prompt_len] = -100
    labels[n // 2 : n, -1] = -100  # some chosen responses are one token shorter (padding)
    return ids, labels


def dpo_loss(pi_c, pi_r, ref_c, ref_r, beta=0.1, label_smoothing=0.0, loss_type="sigmoid"):
    logits = (pi_c - pi_r) - (ref_c - ref_r)
    if loss_type == "ipo":
        losses = (logits - 1 / (2 * beta)) ** 2
    else:
        losses = (
            -F.logsigmoid(beta * logits) * (1 - label_smoothing)
            - F.logsigmoid(-beta * logits) * label_smoothing
        )
    chosen_rewards = beta * (pi_c - ref_c).detach()
    rejected_rewards = beta * (pi_r - ref_r).detach()
    return losses.mean(), chosen_rewards, rejected_rewards


policy = TinyLM()
reference = copy.deepcopy(policy).requires_grad_(False).eval()
optimizer = torch.optim.AdamW(policy.parameters(), lr=5e-3)
history = {"loss": [], "accuracy": [], "margin": []}
for step in range(6):
    ids, labels = make_pairs(8)
    pi, _, _ = sequence_logps(policy(ids), labels)
    with torch.no_grad():
        ref, _, _ = sequence_logps(reference(ids), labels)
    loss_type = "ipo" if step == 5 else "sigmoid"
    loss, rc, rr = dpo_loss(pi[:8], pi[8:], ref[:8], ref[8:], 0.1, 0.1, loss_type)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history["loss"].append(loss.item())
    history["accuracy"].append((rc > rr).float().mean().item())
    history["margin"].append((rc - rr).mean().item())
reference_frozen = all(p.grad is None and not p.requires_grad for p in reference.parameters())

# GRPO: G completions per prompt, reward = how often the completion uses the GOOD token
G, LEN = 4, 5
prompts = torch.randint(0, VOCAB, (2, 3)).repeat_interleave(G, dim=0)
grpo_losses, mean_rewards, kls = [], [], []
for _ in range(3):
    with torch.no_grad():
        seq = prompts
        for _ in range(LEN):
            probs = F.softmax(policy(seq)[:, -1], dim=-1)
            seq = torch.cat([seq, torch.multinomial(probs, 1)], dim=1)
        labels = seq.clone()
        labels[:, :3] = -100
        _, old_logps, mask = sequence_logps(policy(seq), labels)
        _, ref_logps, _ = sequence_logps(reference(seq), labels)
    rewards = (seq[:, 3:] == GOOD).float().mean(1)
    grouped = rewards.view(-1, G)
    advantages = (grouped - grouped.mean(1, keepdim=True)) / (grouped.std(1, keepdim=True) + 1e-4)
    advantages = advantages.view(-1, 1)
    for _ in range(2):
        _, logps, _ = sequence_logps(policy(seq), labels)
        ratio = torch.exp(logps - old_logps)
        clipped = torch.clamp(ratio, 1 - 0.2, 1 + 0.2)
        per_token = -torch.min(ratio * advantages, clipped * advantages)
        kl = torch.exp(ref_logps - logps) - (ref_logps - logps) - 1
        per_token = per_token + 0.04 * kl
        loss = ((per_token * mask).sum(1) / mask.sum(1)).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        grpo_losses.append(loss.item())
    mean_rewards.append(rewards.mean().item())
    kls.append(((kl * mask).sum() / mask.sum()).item())
print(f"dpo {history['loss'][0]:.4f} -> {history['loss'][4]:.4f}, grpo rewards {mean_rewards}")
