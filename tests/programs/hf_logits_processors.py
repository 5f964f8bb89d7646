"""HuggingFace ``generate()`` sampling, written the way ``transformers`` writes it: a
``LogitsProcessorList`` of ``RepetitionPenaltyLogitsProcessor`` (``gather``, ``torch.where`` on
the sign, ``scatter``), ``TemperatureLogitsWarper``, ``TopKLogitsWarper``
(``torch.topk(...)[0][..., -1, None]``, ``masked_fill``) and ``TopPLogitsWarper`` (ascending
``sort``, ``softmax().cumsum``, the removal mask ``scatter``-ed back to vocabulary order);
left-padded prompts with ``position_ids`` from ``attention_mask.long().cumsum(-1) - 1`` and
``masked_fill_``; a sampling loop with ``unfinished_sequences``, EOS handling by
``next_tokens * unfinished + pad * (1 - unfinished)`` and ``torch.multinomial`` after
``torch.manual_seed``; on a tiny causal LM trained for a few steps."""

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, PAD, EOS = 12, 0, 1


class RepetitionPenaltyLogitsProcessor:
    def __init__(self, penalty):
        self.penalty = penalty

    def __call__(self, input_ids, scores):
        score = torch.gather(scores, 1, input_ids)
        score = torch.where(score < 0, score * self.penalty, score / self.penalty)
        return scores.scatter(1, input_ids, score)


class TemperatureLogitsWarper:
    def __init__(self, temperature):
        self.temperature = temperature

    def __call__(self, input_ids, scores):
        return scores / self.temperature


class TopKLogitsWarper:
    def __init__(self, top_k, filter_value=-float("Inf"), min_tokens_to_keep=1):
        self.top_k, self.filter_value = max(top_k, min_tokens_to_keep), filter_value

    def __call__(self, input_ids, scores):
        top_k = min(self.top_k, scores.size(-1))
        indices_to_remove = scores < torch.topk(scores, top_k)[0][..., -1, None]
        return scores.masked_fill(indices_to_remove, self.filter_value)


class TopPLogitsWarper:
    def __init__(self, top_p, filter_value=-float("Inf"), min_tokens_to_keep=1):
        self.top_p, self.filter_value, self.min_tokens_to_keep = (
            top_p,
            filter_value,
            min_tokens_to_keep,
        )

    def __call__(self, input_ids, scores):
        sorted_logits, sorted_indices = torch.sort(scores, descending=False)
        cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        sorted_indices_to_remove = cumulative_probs <= (1 - self.top_p)
        sorted_indices_to_remove[..., -self.min_tokens_to_keep :] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(
            1, sorted_indices, sorted_indices_to_remove
        )
        return scores.masked_fill(indices_to_remove, self.filter_value)


class LogitsProcessorList(list):
    def __call__(self, input_ids, scores):
        for processor in self:
            scores = processor(input_ids, scores)
        return scores


class TinyCausalLM(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(VOCAB, d), nn.Embedding(16, d)
        self.attn = nn.MultiheadAttention(d, 2, batch_first=True)
        self.ln, self.lm_head = nn.LayerNorm(d), nn.Linear(d, VOCAB, bias=False)

    def forward(self, input_ids, attention_mask, position_ids):
        x = self.wte(input_ids) + self.wpe(position_ids)
        T = input_ids.shape[1]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        mask = causal[None] | (attention_mask[:, None, :] == 0)
        mask = mask.repeat_interleave(2, dim=0)
        h, _ = self.attn(x, x, x, attn_mask=mask, need_weights=False)
        return self.lm_head(self.ln(x + h))


def prepare_position_ids(attention_mask):
    position_ids = attention_mask.long().cumsum(-1) - 1
    position_ids.masked_fill_(attention_mask == 0, 1)
    return position_ids


@torch.no_grad()
def sample(model, input_ids, attention_mask, logits_processor, max_new_tokens=8):
    unfinished_sequences = torch.ones(input_ids.shape[0], dtype=torch.long)
    for _ in range(max_new_tokens):
        position_ids = prepare_position_ids(attention_mask)
        next_token_logits = model(input_ids, attention_mask, position_ids)[:, -1, :]
        next_token_scores = logits_processor(input_ids, next_token_logits)
        probs = nn.functional.softmax(next_token_scores, dim=-1)
        next_tokens = torch.multinomial(probs, num_samples=1).squeeze(1)
        next_tokens = next_tokens * unfinished_sequences + PAD * (1 - unfinished_sequences)
        input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=-1)
        attention_mask = torch.cat(
            [attention_mask, attention_mask.new_ones((attention_mask.shape[0], 1))], dim=-1
        )
        unfinished_sequences = unfinished_sequences & ~(next_tokens == EOS)
        if unfinished_sequences.max() == 0:
            break
    return input_ids


torch.manual_seed(0)
model = TinyCausalLM()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
seqs = torch.tensor([[2 + (s + i) % 5 for i in range(10)] + [EOS] for s in range(5)])
full_mask = torch.ones_like(seqs)
losses = []
model.train()
for step in range(12):
    logits = model(seqs[:, :-1], full_mask[:, :-1], prepare_position_ids(full_mask[:, :-1]))
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), seqs[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
model.eval()
prompts = torch.tensor([[PAD, PAD, 2, 3], [4, 5, 6, 2]])
attention_mask = (prompts != PAD).long()
positions = prepare_position_ids(attention_mask).tolist()
processors = LogitsProcessorList([RepetitionPenaltyLogitsProcessor(1.3), TemperatureLogitsWarper(1.5),
                                  TopKLogitsWarper(5), TopPLogitsWarper(0.9)])  # fmt: skip
scores = model(prompts, attention_mask, prepare_position_ids(attention_mask))[:, -1, :].detach()
processed = processors(prompts, scores)
kept_per_row = torch.isfinite(processed).sum(-1).tolist()
processed_finite = processed[torch.isfinite(processed)].tolist()
torch.manual_seed(42)
generated = sample(model, prompts, attention_mask, processors, max_new_tokens=10).tolist()
greedy = sample(model, prompts, attention_mask, LogitsProcessorList([TopKLogitsWarper(1)])).tolist()
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; kept {kept_per_row}")
for row in generated:
    print(" ".join(str(t) for t in row))
print(f"greedy {greedy}")
