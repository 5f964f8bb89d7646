"""Text-generation metrics written with tensors, as people write them in evaluation scripts:
corpus BLEU with clipped n-gram counts (n-grams as rows from ``unfold``, counted with
``torch.unique(dim=0, return_counts=True)``, clipped with ``torch.minimum``), the brevity
penalty and add-one smoothing; ROUGE-N recall/precision/F and ROUGE-L from a longest common
subsequence table; word error rate by the Levenshtein dynamic program over a 2-D tensor with
backtracking into substitutions, deletions and insertions; and per-token perplexity of a tiny
language model over a padded batch (``cross_entropy(reduction="none", ignore_index=)``, masked
means, ``gather`` of the log-probabilities of the reference tokens)."""

import math

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def ngrams(tokens, n):
    return tokens.unfold(0, n, 1) if tokens.numel() >= n else tokens.new_zeros((0, n))


def ngram_counts(tokens, n):
    grams = ngrams(tokens, n)
    if grams.shape[0] == 0:
        return grams, grams.new_zeros(0)
    return torch.unique(grams, dim=0, return_counts=True)


def clipped_matches(hyp, ref, n):
    """Number of hypothesis n-grams that also occur in the reference, clipped by its counts."""
    h_grams, h_counts = ngram_counts(hyp, n)
    r_grams, r_counts = ngram_counts(ref, n)
    if h_grams.shape[0] == 0 or r_grams.shape[0] == 0:
        return 0, max(hyp.numel() - n + 1, 0)
    same = (h_grams[:, None, :] == r_grams[None, :, :]).all(dim=-1)  # (H, R)
    ref_for_h = (same.long() * r_counts[None, :]).sum(dim=1)
    return int(torch.minimum(h_counts, ref_for_h).sum()), int(h_counts.sum())


def corpus_bleu(hyps, refs, max_n=4, smooth=False):
    matches = torch.zeros(max_n)
    totals = torch.zeros(max_n)
    hyp_len = ref_len = 0
    for h, r in zip(hyps, refs):
        hyp_len += h.numel()
        ref_len += r.numel()
        for n in range(1, max_n + 1):
            m, t = clipped_matches(h, r, n)
            matches[n - 1] += m
            totals[n - 1] += t
    if smooth:
        matches, totals = matches + 1, totals + 1
    log_precision = torch.log(matches / totals).mean()
    bp = min(1.0, math.exp(1 - ref_len / hyp_len))
    return bp * torch.exp(log_precision), matches, totals


def lcs_length(a, b):
    table = torch.zeros(a.numel() + 1, b.numel() + 1, dtype=torch.long)
    eq = a[:, None] == b[None, :]
    for i in range(1, a.numel() + 1):
        for j in range(1, b.numel() + 1):
            if eq[i - 1, j - 1]:
                table[i, j] = table[i - 1, j - 1] + 1
            else:
                table[i, j] = torch.maximum(table[i - 1, j], table[i, j - 1])
    return int(table[-1, -1])


def edit_ops(hyp, ref):
    """Levenshtein table and a backtrace counting (substitutions, deletions, insertions)."""
    d = torch.zeros(ref.numel() + 1, hyp.numel() + 1, dtype=torch.int32)
    d[:, 0] = torch.arange(ref.numel() + 1)
    d[0, :] = torch.arange(hyp.numel() + 1)
    for i in range(1, ref.numel() + 1):
        cost = (ref[i - 1] != hyp).int()
        for j in range(1, hyp.numel() + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + cost[j - 1])
    i, j, subs, dels, ins = ref.numel(), hyp.numel(), 0, 0, 0
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + int(ref[i - 1] != hyp[j - 1]):
            subs += int(ref[i - 1] != hyp[j - 1])
            i, j = i - 1, j - 1
        elif i > 0 and d[i, j] == d[i - 1, j] + 1:
            dels, i = dels + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return int(d[-1, -1]), (subs, dels, ins), d.dtype


V = 12
refs = [torch.randint(1, V, (int(n),)) for n in torch.randint(4, 7, (4,))]
hyps = []
for r in refs:  # corrupt each reference: drop, replace, insert
    h = r.clone()
    h[torch.randint(0, h.numel(), (1,))] = torch.randint(1, V, (1,))
    keep = torch.rand(h.numel()) > 0.15
    h = torch.cat([h[keep], torch.randint(1, V, (1,))])
    hyps.append(h)

bleu, matches, totals = corpus_bleu(hyps, refs)
bleu_smooth = corpus_bleu(hyps, refs, smooth=True)[0]
bleu_results = [bleu.item(), bleu_smooth.item(), matches.tolist(), totals.tolist()]
self_bleu = corpus_bleu(refs, refs)[0].item()
grams_first = ngram_counts(refs[0], 2)
gram_results = [grams_first[0].tolist(), grams_first[1].tolist(), str(grams_first[1].dtype)]

rouge = []
for h, r in zip(hyps, refs):
    m2, t2 = clipped_matches(h, r, 2)
    recall2 = m2 / max(r.numel() - 1, 1)
    precision2 = m2 / max(t2, 1)
    lcs = lcs_length(h, r)
    r_l, p_l = lcs / r.numel(), lcs / h.numel()
    f_l = 0.0 if lcs == 0 else 2 * r_l * p_l / (r_l + p_l)
    rouge.append([recall2, precision2, lcs, f_l])

wer_parts = [edit_ops(h, r) for h, r in zip(hyps, refs)]
errors = sum(p[0] for p in wer_parts)
wer = errors / sum(r.numel() for r in refs)
op_counts = [p[1] for p in wer_parts]
wer_dtype = str(wer_parts[0][2])

# perplexity of a tiny bigram LM over a right-padded batch.
PAD = 0
batch = torch.nn.utils.rnn.pad_sequence(refs, batch_first=True, padding_value=PAD)
lengths = torch.tensor([r.numel() for r in refs])
emb = torch.nn.Embedding(V, 8, padding_idx=PAD)
head = torch.nn.Linear(8, V)
opt = torch.optim.Adam([*emb.parameters(), *head.parameters()], lr=0.05)
losses = []
for _ in range(15):
    logits = head(emb(batch[:, :-1]))
    loss = F.cross_entropy(logits.reshape(-1, V), batch[:, 1:].reshape(-1), ignore_index=PAD)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

with torch.no_grad():
    logits = head(emb(batch[:, :-1]))
    token_nll = F.cross_entropy(logits.transpose(1, 2), batch[:, 1:], reduction="none")
    mask = (batch[:, 1:] != PAD).float()
    per_seq_ppl = torch.exp((token_nll * mask).sum(1) / mask.sum(1))
    corpus_ppl = torch.exp((token_nll * mask).sum() / mask.sum())
    logp = logits.log_softmax(-1).gather(-1, batch[:, 1:].unsqueeze(-1)).squeeze(-1)
    gather_gap = ((-logp - token_nll) * mask).abs().max().item()
    pad_nll = token_nll[mask == 0].tolist()  # padded targets still get a loss (nothing ignored)
ppl_results = [per_seq_ppl.tolist(), corpus_ppl.item(), lengths.tolist(), token_nll.shape]
ppl_results[-1] = tuple(ppl_results[-1])
