"""Transformer-XL (Dai et al., 2019) as kimiyoung/transformer-xl's PyTorch code writes it:
segment-level recurrence (the previous segment's hidden states cached detached as memory and
concatenated to the keys and values), sinusoidal relative position embeddings over the whole
key span, the content and position biases u and v (r_w_bias, r_r_bias), the _rel_shift trick
(pad a zero column, view, drop the first row) to align relative scores, and a causal mask that
lets each query see the memory plus the segment up to itself. Trained on a sequence that repeats
with a period longer than a segment, so memory helps."""

import torch
import torch.nn as nn
import torch.nn.functional as F

SEG, MEM, D, H = 8, 8, 32, 4


class PositionalEmbedding(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.register_buffer("inv_freq", 1 / (10000 ** (torch.arange(0.0, d, 2.0) / d)))

    def forward(self, pos_seq):
        sinusoid = torch.ger(pos_seq, self.inv_freq)
        return torch.cat([sinusoid.sin(), sinusoid.cos()], dim=-1)


def rel_shift(x):
    """(q, k, B, H) scores indexed by relative distance -> indexed by key position."""
    zero_pad = torch.zeros((x.size(0), 1, *x.size()[2:]), dtype=x.dtype)
    x_padded = torch.cat([zero_pad, x], dim=1)
    x_padded = x_padded.view(x.size(1) + 1, x.size(0), *x.size()[2:])
    return x_padded[1:].view_as(x)


class RelMultiHeadAttn(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D, bias=False)
        self.r_net = nn.Linear(D, D, bias=False)
        self.o = nn.Linear(D, D, bias=False)
        self.norm = nn.LayerNorm(D)
        self.r_w_bias = nn.Parameter(torch.zeros(H, D // H))
        self.r_r_bias = nn.Parameter(torch.zeros(H, D // H))
        self.ff = nn.Sequential(nn.Linear(D, 4 * D), nn.ReLU(), nn.Linear(4 * D, D))
        self.ff_norm = nn.LayerNorm(D)

    def forward(self, w, r, mem, mask):  # w: (q, B, D), r: (k, D), mem: (m, B, D)
        qlen, bsz = w.size(0), w.size(1)
        cat = torch.cat([mem, w], 0)
        heads = self.qkv(cat)
        q, k, v = heads.chunk(3, dim=-1)
        q = q[-qlen:].view(qlen, bsz, H, D // H)
        k, v = (t.view(cat.size(0), bsz, H, D // H) for t in (k, v))
        r_k = self.r_net(r).view(r.size(0), H, D // H)
        ac = torch.einsum("ibnd,jbnd->ijbn", q + self.r_w_bias, k)  # content
        bd = rel_shift(torch.einsum("ibnd,jnd->ijbn", q + self.r_r_bias, r_k))  # position
        score = (ac + bd) * (D // H) ** -0.5
        score = score.float().masked_fill(mask[:, :, None, None], -float("inf")).type_as(score)
        prob = F.softmax(score, dim=1)
        vec = torch.einsum("ijbn,jbnd->ibnd", prob, v).reshape(qlen, bsz, D)
        out = self.norm(w + self.o(vec))
        return self.ff_norm(out + self.ff(out)), prob


class TransformerXL(nn.Module):
    def __init__(self, vocab, n_layer=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, D)
        self.pos_emb = PositionalEmbedding(D)
        self.layers = nn.ModuleList([RelMultiHeadAttn() for _ in range(n_layer)])
        self.out = nn.Linear(D, vocab)

    def init_mems(self, bsz):
        return [torch.zeros(0, bsz, D) for _ in self.layers]

    def forward(self, data, mems):  # data: (q, B)
        qlen, mlen = data.size(0), mems[0].size(0)
        klen = qlen + mlen
        mask = torch.triu(torch.ones(qlen, klen, dtype=torch.bool), diagonal=1 + mlen)
        pos_seq = torch.arange(klen - 1, -1, -1.0)
        r = self.pos_emb(pos_seq)
        h, hids = self.embed(data) * D**0.5, []
        for layer, mem in zip(self.layers, mems):
            hids.append(h)
            h, prob = layer(h, r, mem, mask)
        with torch.no_grad():  # the new memory: the last MEM states, no gradient through them
            new_mems = [torch.cat([m, x], 0)[-MEM:].detach() for m, x in zip(mems, hids)]
        return self.out(h), new_mems, prob


x = torch.arange(12.0).view(3, 4, 1, 1)
shifted = rel_shift(x)[..., 0, 0].tolist()

torch.manual_seed(0)
period = torch.randint(0, 10, (12,))  # period 12 > segment 8
stream = period.repeat(12)  # (144,)
batch = torch.stack([stream.roll(-3 * b) for b in range(4)], dim=1)  # (144, 4)
model = TransformerXL(10)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
losses = []
for epoch in range(4):
    mems = model.init_mems(4)
    for start in range(0, batch.size(0) - SEG - 1, SEG):
        inp, tgt = batch[start : start + SEG], batch[start + 1 : start + SEG + 1]
        logits, mems, prob = model(inp, mems)
        loss = F.cross_entropy(logits.view(-1, 10), tgt.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
mem_shapes = [tuple(m.shape) for m in mems]
mem_requires_grad = any(m.requires_grad for m in mems)
future = torch.triu(torch.ones(SEG, SEG + MEM, dtype=torch.bool), diagonal=1 + MEM)
future_share = prob.masked_select(future[:, :, None, None].expand_as(prob)).sum().item()
first_query_keys = (prob[0, :, 0, 0] > 0).sum().item()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; mems {mem_shapes}")
