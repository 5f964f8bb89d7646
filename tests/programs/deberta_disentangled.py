"""DeBERTa-v2's disentangled attention as Hugging Face's ``modeling_deberta_v2`` writes it:
log-bucketed relative positions (``make_log_bucket_position``: ``torch.sign``, ``torch.where``,
``torch.ceil`` of a log ratio), ``build_relative_position``, shared key/query projections of
the relative embeddings (``share_att_key``) repeated over the batch, the content-to-position
and position-to-content scores picked with ``torch.gather`` from clamped bucket indices, the
``sqrt(d * scale_factor)`` scaling, the ``XSoftmax`` autograd Function (a masked softmax whose
backward calls ``torch._softmax_backward_data``), ``StableDropout``'s ``XDropout`` Function
(masks from ``torch.empty_like(x).bernoulli_``), and the relative-embedding LayerNorm; a two-layer encoder is trained for masked-token prediction on
sequences whose tokens depend on their neighbours."""

import math  # noqa: F401

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)


class XSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, mask, dim):
        ctx.dim = dim
        rmask = ~(mask.to(torch.bool))
        output = input.masked_fill(rmask, torch.tensor(torch.finfo(input.dtype).min))
        output = torch.softmax(output, ctx.dim)
        output.masked_fill_(rmask, 0)
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (output,) = ctx.saved_tensors
        inputGrad = softmax_backward_data(ctx, grad_output, output, ctx.dim, output)
        return inputGrad, None, None


def softmax_backward_data(parent, grad_output, output, dim, self):
    from torch import _softmax_backward_data

    return _softmax_backward_data(grad_output, output, parent.dim, self.dtype)


def get_mask(input, dropout):
    mask = (1 - torch.empty_like(input).bernoulli_(1 - dropout)).to(torch.bool)
    return mask, dropout


class XDropout(torch.autograd.Function):
    """Optimized dropout function to save computation and memory by using mask operation
    instead of multiplication."""

    @staticmethod
    def forward(ctx, input, local_ctx):
        mask, dropout = get_mask(input, local_ctx)
        ctx.scale = 1.0 / (1 - dropout)
        if dropout > 0:
            ctx.save_for_backward(mask)
            return input.masked_fill(mask, 0) * ctx.scale
        else:
            return input

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.scale > 1:
            (mask,) = ctx.saved_tensors
            return grad_output.masked_fill(mask, 0) * ctx.scale, None
        else:
            return grad_output, None


class StableDropout(nn.Module):
    def __init__(self, drop_prob):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        if self.training and self.drop_prob > 0:
            return XDropout.apply(x, self.drop_prob)
        return x


def make_log_bucket_position(relative_pos, bucket_size, max_position):
    sign = torch.sign(relative_pos)
    mid = bucket_size // 2
    abs_pos = torch.where(
        (relative_pos < mid) & (relative_pos > -mid),
        torch.tensor(mid - 1).type_as(relative_pos),
        torch.abs(relative_pos),
    )
    log_pos = (
        torch.ceil(
            torch.log(abs_pos / mid) / torch.log(torch.tensor((max_position - 1) / mid)) * (mid - 1)
        )
        + mid
    )
    bucket_pos = torch.where(abs_pos <= mid, relative_pos.type_as(log_pos), log_pos * sign)
    return bucket_pos


def build_relative_position(query_layer, key_layer, bucket_size: int = -1, max_position: int = -1):
    query_size = query_layer.size(-2)
    key_size = key_layer.size(-2)
    q_ids = torch.arange(query_size, dtype=torch.long, device=query_layer.device)
    k_ids = torch.arange(key_size, dtype=torch.long, device=key_layer.device)
    rel_pos_ids = q_ids[:, None] - k_ids[None, :]
    if bucket_size > 0 and max_position > 0:
        rel_pos_ids = make_log_bucket_position(rel_pos_ids, bucket_size, max_position)
    rel_pos_ids = rel_pos_ids.to(torch.long)
    rel_pos_ids = rel_pos_ids[:query_size, :]
    rel_pos_ids = rel_pos_ids.unsqueeze(0)
    return rel_pos_ids


class DisentangledSelfAttention(nn.Module):
    def __init__(self, hidden_size, num_attention_heads, position_buckets, max_relative_positions):
        super().__init__()
        self.num_attention_heads = num_attention_heads
        self.attention_head_size = hidden_size // num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query_proj = nn.Linear(hidden_size, self.all_head_size, bias=True)
        self.key_proj = nn.Linear(hidden_size, self.all_head_size, bias=True)
        self.value_proj = nn.Linear(hidden_size, self.all_head_size, bias=True)
        self.share_att_key = True
        self.pos_att_type = ["p2c", "c2p"]
        self.relative_attention = True
        self.position_buckets = position_buckets
        self.max_relative_positions = max_relative_positions
        self.pos_ebd_size = (
            self.position_buckets if self.position_buckets > 0 else max_relative_positions
        )
        self.dropout = StableDropout(0.1)

    @staticmethod
    def transpose_for_scores(x, attention_heads) -> torch.Tensor:
        new_x_shape = x.size()[:-1] + (attention_heads, -1)
        x = x.view(new_x_shape)
        return x.permute(0, 2, 1, 3).contiguous().view(-1, x.size(1), x.size(-1))

    def forward(self, hidden_states, attention_mask, relative_pos=None, rel_embeddings=None):
        query_layer = self.transpose_for_scores(
            self.query_proj(hidden_states), self.num_attention_heads
        )
        key_layer = self.transpose_for_scores(
            self.key_proj(hidden_states), self.num_attention_heads
        )
        value_layer = self.transpose_for_scores(
            self.value_proj(hidden_states), self.num_attention_heads
        )
        scale_factor = 1
        if "c2p" in self.pos_att_type:
            scale_factor += 1
        if "p2c" in self.pos_att_type:
            scale_factor += 1
        scale = torch.sqrt(torch.tensor(query_layer.size(-1), dtype=torch.float) * scale_factor)
        attention_scores = torch.bmm(
            query_layer, key_layer.transpose(-1, -2) / scale.to(dtype=query_layer.dtype)
        )
        rel_att = self.disentangled_attention_bias(
            query_layer, key_layer, relative_pos, rel_embeddings, scale_factor
        )
        attention_scores = attention_scores + rel_att
        attention_scores = attention_scores.view(
            -1, self.num_attention_heads, attention_scores.size(-2), attention_scores.size(-1)
        )
        attention_probs = XSoftmax.apply(attention_scores, attention_mask, -1)
        attention_probs = self.dropout(attention_probs)
        context_layer = torch.bmm(
            attention_probs.view(-1, attention_probs.size(-2), attention_probs.size(-1)),
            value_layer,
        )
        context_layer = (
            context_layer.view(
                -1, self.num_attention_heads, context_layer.size(-2), context_layer.size(-1)
            )
            .permute(0, 2, 1, 3)
            .contiguous()
        )
        new_context_layer_shape = context_layer.size()[:-2] + (-1,)
        context_layer = context_layer.view(new_context_layer_shape)
        return context_layer, attention_probs

    def disentangled_attention_bias(
        self, query_layer, key_layer, relative_pos, rel_embeddings, scale_factor
    ):
        if relative_pos is None:
            relative_pos = build_relative_position(
                query_layer,
                key_layer,
                bucket_size=self.position_buckets,
                max_position=self.max_relative_positions,
            )
        if relative_pos.dim() == 2:
            relative_pos = relative_pos.unsqueeze(0).unsqueeze(0)
        elif relative_pos.dim() == 3:
            relative_pos = relative_pos.unsqueeze(1)
        att_span = self.pos_ebd_size
        relative_pos = relative_pos.long()
        rel_embeddings = rel_embeddings[0 : att_span * 2, :].unsqueeze(0)
        pos_query_layer = self.transpose_for_scores(
            self.query_proj(rel_embeddings), self.num_attention_heads
        ).repeat(query_layer.size(0) // self.num_attention_heads, 1, 1)
        pos_key_layer = self.transpose_for_scores(
            self.key_proj(rel_embeddings), self.num_attention_heads
        ).repeat(query_layer.size(0) // self.num_attention_heads, 1, 1)
        score = 0
        # content->position
        if "c2p" in self.pos_att_type:
            scale = torch.sqrt(
                torch.tensor(pos_key_layer.size(-1), dtype=torch.float) * scale_factor
            )
            c2p_att = torch.bmm(query_layer, pos_key_layer.transpose(-1, -2))
            c2p_pos = torch.clamp(relative_pos + att_span, 0, att_span * 2 - 1)
            c2p_att = torch.gather(
                c2p_att,
                dim=-1,
                index=c2p_pos.squeeze(0).expand(
                    [query_layer.size(0), query_layer.size(1), relative_pos.size(-1)]
                ),
            )
            score += c2p_att / scale.to(dtype=c2p_att.dtype)
        # position->content
        if "p2c" in self.pos_att_type:
            scale = torch.sqrt(
                torch.tensor(pos_query_layer.size(-1), dtype=torch.float) * scale_factor
            )
            r_pos = relative_pos
            p2c_pos = torch.clamp(-r_pos + att_span, 0, att_span * 2 - 1)
            p2c_att = torch.bmm(key_layer, pos_query_layer.transpose(-1, -2))
            p2c_att = torch.gather(
                p2c_att,
                dim=-1,
                index=p2c_pos.squeeze(0).expand(
                    [query_layer.size(0), key_layer.size(-2), key_layer.size(-2)]
                ),
            ).transpose(-1, -2)
            score += p2c_att / scale.to(dtype=p2c_att.dtype)
        return score


class DebertaLayer(nn.Module):
    def __init__(self, hidden, heads, buckets, max_rel):
        super().__init__()
        self.attention = DisentangledSelfAttention(hidden, heads, buckets, max_rel)
        self.attn_out = nn.Linear(hidden, hidden)
        self.norm1 = nn.LayerNorm(hidden, eps=1e-7)
        self.ffn = nn.Sequential(
            nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden)
        )
        self.norm2 = nn.LayerNorm(hidden, eps=1e-7)

    def forward(self, h, mask, relative_pos, rel_embeddings):
        ctx, probs = self.attention(h, mask, relative_pos, rel_embeddings)
        h = self.norm1(h + self.attn_out(ctx))
        return self.norm2(h + self.ffn(h)), probs


class DebertaEncoder(nn.Module):
    def __init__(self, vocab, hidden=16, heads=2, layers=2, buckets=8, max_rel=32):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.embed_norm = nn.LayerNorm(hidden, eps=1e-7)
        self.position_buckets, self.max_relative_positions = buckets, max_rel
        self.rel_embeddings = nn.Embedding(buckets * 2, hidden)
        self.rel_norm = nn.LayerNorm(hidden, eps=1e-7, elementwise_affine=True)
        self.layer = nn.ModuleList(
            [DebertaLayer(hidden, heads, buckets, max_rel) for _ in range(layers)]
        )
        self.lm_head = nn.Linear(hidden, vocab)

    def get_attention_mask(self, attention_mask):
        extended_attention_mask = attention_mask.unsqueeze(1).unsqueeze(2)
        attention_mask = extended_attention_mask * extended_attention_mask.squeeze(-2).unsqueeze(-1)
        return attention_mask

    def forward(self, input_ids, attention_mask):
        h = self.embed_norm(self.word_embeddings(input_ids)) * attention_mask.unsqueeze(-1).to(
            torch.float
        )
        mask = self.get_attention_mask(attention_mask)
        relative_pos = build_relative_position(
            h, h, self.position_buckets, self.max_relative_positions
        )
        rel_embeddings = self.rel_norm(self.rel_embeddings.weight)
        for layer in self.layer:
            h, probs = layer(h, mask, relative_pos, rel_embeddings)
        return self.lm_head(h), probs


buckets = make_log_bucket_position(torch.arange(-20, 21), bucket_size=8, max_position=32)
bucket_values = buckets.tolist()
bucket_dtype = str(buckets.dtype)
rel = build_relative_position(torch.zeros(1, 6, 4), torch.zeros(1, 6, 4), 8, 32)
rel_pos_summary = [tuple(rel.shape), str(rel.dtype), rel[0, 0].tolist()]

# masked-token prediction: token t+1 = token t + 1 (mod vocab), random starts, padded rows
vocab, MASK, n = 12, 11, 10
starts = torch.randint(0, 10, (24, 1))
input_ids = (starts + torch.arange(n)) % 10 + 1
lengths = torch.randint(6, n + 1, (24,))
attention_mask = (torch.arange(n)[None, :] < lengths[:, None]).long()
input_ids = input_ids * attention_mask  # padding id 0
model = DebertaEncoder(vocab)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
losses = []
for step in range(30):
    picked = (torch.rand(24, n) < 0.25) & attention_mask.bool()
    corrupted = input_ids.masked_fill(picked, MASK)
    logits, probs = model(corrupted, attention_mask)
    labels = input_ids.masked_fill(~picked, -100)
    loss = F.cross_entropy(logits.view(-1, vocab), labels.view(-1), ignore_index=-100)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    probe = input_ids.clone()
    probe[:, 3] = MASK
    logits, probs = model(probe, attention_mask)
probe_accuracy = (logits[:, 3].argmax(-1) == input_ids[:, 3]).float().mean().item()
row = int((lengths < n).nonzero()[0])
padded_attention = probs[row, :, : lengths[row], lengths[row] :].sum().item()  # masked keys
probs_shape = tuple(probs.shape)
probs_grad_fn = type(model.train()(corrupted, attention_mask)[1].grad_fn).__name__
rel_grad = model.rel_embeddings.weight.grad.abs().sum(-1).tolist()
