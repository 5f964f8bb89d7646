"""A paged KV cache in the style of vLLM's PagedAttention, written by hand as the "build your own
inference engine" posts do: a pool of fixed-size blocks, per-sequence block tables drawn from a
free list, ``slot_mapping = block_table[pos // B] * B + pos % B`` to write new keys and values
with ``index_copy_``, reads that ``index_select`` the blocks back and ``gather`` the slots of a
padded batch of different lengths, masked with ``arange < context_lens``; decoding three
prompts of different lengths at once gives the same tokens and logits as per-sequence
contiguous caches. Then StreamingLLM: attention sinks (the first tokens) plus a sliding window,
as a cache that keeps the sink keys and the recent ones, which matches an explicit
sink-plus-window attention mask."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, DIM, HEADS, BLOCK, NUM_BLOCKS = 32, 32, 4, 4, 24
HD = DIM // HEADS


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.pos = nn.Embedding(VOCAB, DIM), nn.Embedding(64, DIM)
        self.qkv, self.proj = nn.Linear(DIM, 3 * DIM), nn.Linear(DIM, DIM)
        self.ln, self.head = nn.LayerNorm(DIM), nn.Linear(DIM, VOCAB)

    def project(self, tokens, positions):
        h = self.embed(tokens) + self.pos(positions)
        q, k, v = self.qkv(self.ln(h)).view(*tokens.shape, 3, HEADS, HD).unbind(-3)
        return h, q, k, v

    def finish(self, h, attn):
        return self.head(h + self.proj(attn.flatten(-2)))


class PagedCache:
    def __init__(self):
        self.k = torch.zeros(NUM_BLOCKS, BLOCK, HEADS, HD)
        self.v = torch.zeros(NUM_BLOCKS, BLOCK, HEADS, HD)
        self.free = torch.randperm(NUM_BLOCKS).tolist()  # blocks are handed out in any order
        self.tables, self.lens = [], []

    def add_sequence(self):
        self.tables.append([])
        self.lens.append(0)
        return len(self.tables) - 1

    def slots(self, seq, n):
        """Reserve n more slots for sequence seq, taking blocks from the free list as needed."""
        start = self.lens[seq]
        while len(self.tables[seq]) * BLOCK < start + n:
            self.tables[seq].append(self.free.pop())
        table = torch.tensor(self.tables[seq])
        pos = torch.arange(start, start + n)
        self.lens[seq] += n
        return table[pos // BLOCK] * BLOCK + pos % BLOCK

    def write(self, slot_mapping, k, v):
        self.k.view(-1, HEADS, HD).index_copy_(0, slot_mapping, k)
        self.v.view(-1, HEADS, HD).index_copy_(0, slot_mapping, v)

    def read_batch(self, seqs):
        """Keys and values of several sequences, padded to the longest, and the padding mask."""
        width = max(len(self.tables[s]) for s in seqs)
        tables = torch.tensor([self.tables[s] + [0] * (width - len(self.tables[s])) for s in seqs])
        lens = torch.tensor([self.lens[s] for s in seqs])
        blocks_k = self.k.index_select(0, tables.flatten()).view(len(seqs), -1, HEADS * HD)
        blocks_v = self.v.index_select(0, tables.flatten()).view(len(seqs), -1, HEADS * HD)
        idx = torch.arange(lens.max()).unsqueeze(0).expand(len(seqs), -1)
        gather_idx = idx.unsqueeze(-1).expand(-1, -1, HEADS * HD)
        k = blocks_k.gather(1, gather_idx).view(len(seqs), -1, HEADS, HD)
        v = blocks_v.gather(1, gather_idx).view(len(seqs), -1, HEADS, HD)
        return k, v, idx < lens[:, None]

    def release(self, seq):
        self.free.extend(self.tables[seq])
        self.tables[seq], self.lens[seq] = [], 0


model = Decoder()
model.eval()
prompts = [torch.randint(0, VOCAB, (n,)) for n in (5, 9, 3)]
STEPS = 6

with torch.no_grad():
    # reference: each sequence alone, with a contiguous cache and causal SDPA
    reference_tokens, reference_logits = [], []
    for prompt in prompts:
        tokens, keys, values, out = prompt.clone(), None, None, []
        h, q, k, v = model.project(tokens, torch.arange(len(tokens)))
        keys, values = k, v
        attn = F.scaled_dot_product_attention(
            *(t.transpose(0, 1) for t in (q, k, v)), is_causal=True
        )
        logits = model.finish(h, attn.transpose(0, 1))[-1]
        for step in range(STEPS):
            nxt = logits.argmax()
            out.append(nxt.item())
            pos = torch.tensor([len(tokens)])
            tokens = torch.cat([tokens, nxt[None]])
            h, q, k, v = model.project(nxt[None], pos)
            keys, values = torch.cat([keys, k]), torch.cat([values, v])
            attn = F.scaled_dot_product_attention(*(t.transpose(0, 1) for t in (q, keys, values)))
            logits = model.finish(h, attn.transpose(0, 1))[-1]
        reference_tokens.append(out)
        reference_logits.append(logits)

    # paged: prefill each prompt, then decode all three together in one padded batch
    cache = PagedCache()
    seqs = [cache.add_sequence() for _ in prompts]
    last, prefill_slots = [], []
    for seq, prompt in zip(seqs, prompts):
        h, q, k, v = model.project(prompt, torch.arange(len(prompt)))
        slot_mapping = cache.slots(seq, len(prompt))
        prefill_slots.append(slot_mapping.tolist())
        cache.write(slot_mapping, k, v)
        attn = F.scaled_dot_product_attention(
            *(t.transpose(0, 1) for t in (q, k, v)), is_causal=True
        )
        last.append(model.finish(h, attn.transpose(0, 1))[-1])
    logits = torch.stack(last)
    prefill_tables = [list(t) for t in cache.tables]
    paged_tokens = [[] for _ in prompts]
    for step in range(STEPS):
        nxt = logits.argmax(-1)
        for seq, t in zip(seqs, nxt.tolist()):
            paged_tokens[seq].append(t)
        positions = torch.tensor([cache.lens[s] for s in seqs])
        h, q, k, v = model.project(nxt, positions)
        for seq in seqs:
            cache.write(cache.slots(seq, 1), k[seq : seq + 1], v[seq : seq + 1])
        keys, values, valid = cache.read_batch(seqs)
        attn = F.scaled_dot_product_attention(
            q.unsqueeze(2),
            keys.transpose(1, 2),
            values.transpose(1, 2),
            attn_mask=valid[:, None, None],
        )
        logits = model.finish(h, attn.squeeze(2))
    logits_sample = logits[:, :3].flatten().tolist()
    paged_gap = max((logits[i] - reference_logits[i]).abs().max().item() for i in seqs)
    tokens_match = paged_tokens == reference_tokens
    blocks_used = [len(t) for t in cache.tables]
    cache.release(1)
    free_after_release = len(cache.free)

    # StreamingLLM: 2 sink tokens + a window of 4, positions re-assigned inside the cache
    SINKS, WINDOW, LENGTH = 2, 4, 14
    stream = torch.randint(0, VOCAB, (LENGTH,))
    i, j = torch.arange(LENGTH)[:, None], torch.arange(LENGTH)[None, :]
    allowed = (j <= i) & ((j < SINKS) | (i - j < WINDOW))
    emb = model.embed(stream)
    q, k, v = model.qkv(model.ln(emb)).view(LENGTH, 3, HEADS, HD).unbind(1)
    masked = F.scaled_dot_product_attention(
        *(t.transpose(0, 1) for t in (q, k, v)), attn_mask=allowed
    ).transpose(0, 1)
    rolled, kept_sizes = [], []
    for t in range(LENGTH):
        keep = list(range(min(SINKS, t + 1))) + list(range(max(SINKS, t - WINDOW + 1), t + 1))
        kept_sizes.append(len(keep))
        out = F.scaled_dot_product_attention(
            q[t].unsqueeze(1), k[keep].transpose(0, 1), v[keep].transpose(0, 1)
        )
        rolled.append(out.squeeze(1))
    streaming_gap = (torch.stack(rolled) - masked).abs().max().item()
    allowed_per_row = allowed.sum(1).tolist()
