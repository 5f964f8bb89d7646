"""A sparse mixture-of-experts layer as Switch/Mixtral-style repos write it: a linear router,
softmax + topk routing (top-2) with renormalized gate weights, tokens dispatched to experts by
boolean masks / torch.where and combined back with index_add_, a load-balancing auxiliary loss
(fraction of tokens per expert x mean router probability), and a capacity-limited top-1
variant that drops overflow tokens via cumsum over one-hot assignments; trained as the
feed-forward block of a tiny classifier."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Expert(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))  # SwiGLU


class SparseMoE(nn.Module):
    def __init__(self, dim, hidden, num_experts=4, top_k=2):
        super().__init__()
        self.gate = nn.Linear(dim, num_experts, bias=False)
        self.experts = nn.ModuleList([Expert(dim, hidden) for _ in range(num_experts)])
        self.num_experts, self.top_k = num_experts, top_k

    def forward(self, x):
        batch, seq, dim = x.shape
        x = x.view(-1, dim)
        router_logits = self.gate(x)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        topk_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
        topk_weights /= topk_weights.sum(dim=-1, keepdim=True)
        topk_weights = topk_weights.to(x.dtype)
        out = torch.zeros_like(x)
        # (num_experts, top_k, tokens): which slot of which token goes to each expert
        expert_mask = F.one_hot(selected_experts, num_classes=self.num_experts).permute(2, 1, 0)
        for e, expert in enumerate(self.experts):
            idx, top_x = torch.where(expert_mask[e])
            if top_x.numel() == 0:
                continue
            current = x[None, top_x].reshape(-1, dim)
            current = expert(current) * topk_weights[top_x, idx, None]
            out.index_add_(0, top_x, current.to(x.dtype))
        # load balancing (Switch Transformer): num_experts * sum_e f_e * P_e
        tokens_per_expert = F.one_hot(selected_experts[:, 0], self.num_experts).float().mean(0)
        router_prob_per_expert = routing_weights.mean(0)
        aux_loss = self.num_experts * torch.sum(tokens_per_expert * router_prob_per_expert)
        return out.view(batch, seq, dim), aux_loss, selected_experts


class CapacityTop1MoE(nn.Module):
    """Switch routing with an expert capacity: tokens past capacity pass through unchanged."""

    def __init__(self, dim, hidden, num_experts=4, capacity_factor=1.0):
        super().__init__()
        self.gate = nn.Linear(dim, num_experts)
        self.experts = nn.ModuleList([Expert(dim, hidden) for _ in range(num_experts)])
        self.num_experts, self.capacity_factor = num_experts, capacity_factor

    def forward(self, x):
        tokens = x.reshape(-1, x.shape[-1])
        probs = self.gate(tokens).softmax(-1)
        gate, expert_index = probs.max(dim=-1)
        one_hot = F.one_hot(expert_index, self.num_experts)
        capacity = int(self.capacity_factor * tokens.shape[0] / self.num_experts)
        position_in_expert = torch.cumsum(one_hot, dim=0) * one_hot  # 1-based slot per token
        kept = (position_in_expert.sum(-1) <= capacity) & (position_in_expert.sum(-1) > 0)
        out = tokens.clone()
        for e in range(self.num_experts):
            sel = (expert_index == e) & kept
            if sel.any():
                out[sel] = gate[sel].unsqueeze(-1) * self.experts[e](tokens[sel])
        return out.reshape(x.shape), kept.float().mean()


class Classifier(nn.Module):
    def __init__(self, vocab, dim, num_classes, moe):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.norm = nn.LayerNorm(dim)
        self.moe = moe
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        out = self.moe(self.norm(h))
        y, extra = out[0], out[1]
        return self.head((h + y).mean(1)), extra


vocab, seq_len, num_classes = 32, 12, 4
tokens = torch.randint(0, vocab, (256, seq_len))
labels = torch.bucketize(tokens.float().mean(1), torch.tensor([13.5, 15.5, 17.5]))


def train(model, steps=50, aux_coef=0.01):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for step in range(steps):
        idx = torch.randint(0, tokens.shape[0], (64,))
        logits, extra = model(tokens[idx])
        loss = F.cross_entropy(logits, labels[idx])
        if isinstance(model.moe, SparseMoE):
            loss = loss + aux_coef * extra
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = (model(tokens)[0].argmax(-1) == labels).float().mean().item()
    return losses, acc


model = Classifier(vocab, 32, num_classes, SparseMoE(32, 64))
losses, accuracy = train(model)
with torch.no_grad():
    _, aux, selected = model.moe(model.norm(model.embed(tokens[:64])))
expert_counts = torch.bincount(selected.flatten(), minlength=4)
print(f"top-2 MoE: loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {accuracy:.3f}")
print(f"tokens per expert {expert_counts.tolist()}, aux loss {aux.item():.3f}")

# The dispatch with index_add_ equals a dense evaluation of every expert, weighted
moe = model.moe
x = torch.randn(2, 5, 32)
with torch.no_grad():
    sparse_out, _, _ = moe(x)
    flat = x.view(-1, 32)
    probs = moe.gate(flat).softmax(-1)
    w, sel = probs.topk(2, dim=-1)
    w = w / w.sum(-1, keepdim=True)
    dense = torch.stack([expert(flat) for expert in moe.experts], 1)  # (tokens, E, dim)
    picked = dense.gather(1, sel.unsqueeze(-1).expand(-1, -1, 32))
    reference = (picked * w.unsqueeze(-1)).sum(1).view(2, 5, 32)
dispatch_gap = (sparse_out - reference).abs().max().item()

capacity_model = Classifier(vocab, 32, num_classes, CapacityTop1MoE(32, 64, capacity_factor=1.25))
cap_losses, cap_accuracy = train(capacity_model)
with torch.no_grad():
    _, kept_fraction = capacity_model.moe(capacity_model.norm(capacity_model.embed(tokens[:64])))
print(
    f"capacity top-1 MoE: loss {cap_losses[0]:.3f} -> {cap_losses[-1]:.3f}, kept {kept_fraction:.2f}"
)
