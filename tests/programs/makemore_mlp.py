"""Karpathy's makemore lectures (parts 1-3), as written for PyTorch, on a small list of names:
the bigram model by counting (``N[ix1, ix2] += 1`` into an int32 table, rows normalised with
``keepdim``, sampled with ``torch.multinomial`` from a seeded ``torch.Generator``, scored by
the average negative log-likelihood), the same bigram trained as a one-hot neural net with a
regulariser, then the MLP of Bengio et al. with an embedding table indexed by a batch of
contexts (``C[Xb]``), ``emb.view``, kaiming-scaled weights (gain 5/3 for tanh), a hand-written
batch norm with running statistics updated under ``torch.no_grad()``, minibatches drawn with
``torch.randint(generator=g)``, a step-decayed learning rate, the split losses evaluated with
``@torch.no_grad()``, and names sampled from the trained model."""

import torch
import torch.nn.functional as F

words = (
    "emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily "
    "elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace chloe "
    "penelope layla riley zoey nora lily eleanor hannah lillian addison aubrey ellie stella "
    "natalie zoe leah hazel violet aurora savannah audrey brooklyn bella claire skylar lucy"
).split()
chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)

# --- part 1: bigram counts
N = torch.zeros((vocab_size, vocab_size), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdims=True)
g = torch.Generator().manual_seed(2147483647)
bigram_samples = []
for _ in range(5):
    out, ix = [], 0
    while True:
        ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
        if ix == 0:
            break
        out.append(itos[ix])
    bigram_samples.append("".join(out))
log_likelihood, n = 0.0, 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        log_likelihood += torch.log(P[stoi[ch1], stoi[ch2]])
        n += 1
count_nll = (-log_likelihood / n).item()
count_total = N.sum().item()

# --- the bigram as a neural net
xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs, ys = torch.tensor(xs), torch.tensor(ys)
W = torch.randn((vocab_size, vocab_size), generator=g, requires_grad=True)
net_losses = []
for k in range(20):
    xenc = F.one_hot(xs, num_classes=vocab_size).float()
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(len(ys)), ys].log().mean() + 0.01 * (W**2).mean()
    net_losses.append(loss.item())
    W.grad = None
    loss.backward()
    W.data += -50 * W.grad

# --- parts 2-3: the MLP with a hand-written batch norm
block_size, n_embd, n_hidden = 3, 6, 32


def build_dataset(ws):
    X, Y = [], []
    for w in ws:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


Xtr, Ytr = build_dataset(words[:44])
Xdev, Ydev = build_dataset(words[44:])
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((vocab_size, n_embd), generator=g)
W1 = (
    torch.randn((n_embd * block_size, n_hidden), generator=g)
    * (5 / 3)
    / ((n_embd * block_size) ** 0.5)
)
W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.01
b2 = torch.randn(vocab_size, generator=g) * 0
bngain = torch.ones((1, n_hidden))
bnbias = torch.zeros((1, n_hidden))
bnmean_running = torch.zeros((1, n_hidden))
bnstd_running = torch.ones((1, n_hidden))
parameters = [C, W1, W2, b2, bngain, bnbias]
n_params = sum(p.nelement() for p in parameters)
for p in parameters:
    p.requires_grad = True

lossi, batch_size = [], 32
for i in range(60):
    ix = torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1
    bnmeani = hpreact.mean(0, keepdim=True)
    bnstdi = hpreact.std(0, keepdim=True)
    hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
    with torch.no_grad():
        bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
        bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Yb)
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.2 if i < 40 else 0.02
    for p in parameters:
        p.data += -lr * p.grad
    lossi.append(loss.log10().item())
saturated = (h.abs() > 0.99).float().mean().item()


@torch.no_grad()
def split_loss(split):
    x, y = {"train": (Xtr, Ytr), "val": (Xdev, Ydev)}[split]
    emb = C[x]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = bngain * (embcat @ W1 - bnmean_running) / bnstd_running + bnbias
    logits = torch.tanh(hpreact) @ W2 + b2
    return F.cross_entropy(logits, y).item()


split_losses = [split_loss("train"), split_loss("val")]
g = torch.Generator().manual_seed(2147483647 + 10)
mlp_samples = []
for _ in range(4):
    out, context = [], [0] * block_size
    for _ in range(12):
        emb = C[torch.tensor([context])]
        hpreact = bngain * (emb.view(1, -1) @ W1 - bnmean_running) / bnstd_running + bnbias
        probs = F.softmax(torch.tanh(hpreact) @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        if ix == 0:
            break
        out.append(ix)
    mlp_samples.append("".join(itos[i] for i in out))
