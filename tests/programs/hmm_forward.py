"""A hidden Markov model trained by gradient descent on its log-likelihood, as people write
one in PyTorch: unconstrained parameters through ``log_softmax``, the forward algorithm in log
space with ``torch.logsumexp`` over a batch of sequences of different lengths (a mask keeps
the last valid step), posterior state marginals as the gradient of ``log p(x)`` with respect
to the per-step emission scores (``torch.autograd.grad``: forward-backward for free), and
Viterbi decoding with ``max``/``argmax`` back-pointers."""

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(91)
n_states, n_symbols, T, batch = 3, 4, 12, 16
true_trans = np.array([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]])
true_emit = np.array([[0.7, 0.2, 0.05, 0.05], [0.1, 0.6, 0.2, 0.1], [0.05, 0.05, 0.2, 0.7]])


def sample(length):
    states, symbols = [int(rng.integers(n_states))], []
    for t in range(length):
        if t:
            states.append(int(rng.choice(n_states, p=true_trans[states[-1]])))
        symbols.append(int(rng.choice(n_symbols, p=true_emit[states[-1]])))
    return states, symbols


lengths = rng.integers(6, T + 1, batch)
data = [sample(int(n)) for n in lengths]
obs = torch.zeros(batch, T, dtype=torch.long)
true_states = torch.full((batch, T), -1)
for i, (s, o) in enumerate(data):
    obs[i, : len(o)] = torch.tensor(o)
    true_states[i, : len(s)] = torch.tensor(s)
lengths = torch.from_numpy(lengths)
mask = torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)


class HMM(nn.Module):
    def __init__(self):
        super().__init__()
        init = np.random.default_rng(92)
        self.start_logits = nn.Parameter(
            torch.from_numpy(init.normal(0, 0.1, n_states).astype(np.float32))
        )
        self.trans_logits = nn.Parameter(
            torch.from_numpy(init.normal(0, 0.1, (n_states, n_states)).astype(np.float32))
        )
        emit = init.normal(0, 0.5, (n_states, n_symbols)) + np.linspace(1, -1, n_symbols)[
            None
        ] * np.array([[1.0], [0.0], [-1.0]])
        self.emit_logits = nn.Parameter(torch.from_numpy(emit.astype(np.float32)))

    def emission_scores(self, obs):
        log_emit = self.emit_logits.log_softmax(-1)  # (S, V)
        return log_emit[:, obs].permute(1, 2, 0)  # (B, T, S)

    def log_likelihood(self, scores, mask):
        log_start = self.start_logits.log_softmax(-1)
        log_trans = self.trans_logits.log_softmax(-1)
        alpha = log_start + scores[:, 0]
        for t in range(1, scores.shape[1]):
            new = torch.logsumexp(alpha.unsqueeze(2) + log_trans.unsqueeze(0), dim=1) + scores[:, t]
            alpha = torch.where(mask[:, t : t + 1], new, alpha)
        return torch.logsumexp(alpha, dim=1)

    def viterbi(self, scores, lengths):
        log_start = self.start_logits.log_softmax(-1)
        log_trans = self.trans_logits.log_softmax(-1)
        paths = []
        for b in range(scores.shape[0]):
            delta, pointers = log_start + scores[b, 0], []
            for t in range(1, int(lengths[b])):
                cand = delta.unsqueeze(1) + log_trans
                pointers.append(cand.argmax(0))
                delta = cand.max(0).values + scores[b, t]
            state = int(delta.argmax())
            path = [state]
            for ptr in reversed(pointers):
                state = int(ptr[state])
                path.append(state)
            paths.append(path[::-1])
        return paths


hmm = HMM()
optimizer = torch.optim.Adam(hmm.parameters(), lr=0.05)
nlls = []
for step in range(40):
    ll = hmm.log_likelihood(hmm.emission_scores(obs), mask)
    loss = -ll.sum() / mask.sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    nlls.append(loss.item())

scores = hmm.emission_scores(obs).detach().requires_grad_()
log_px = hmm.log_likelihood(scores, mask)
(posteriors,) = torch.autograd.grad(log_px.sum(), scores)
row_sums = posteriors.sum(-1)[mask]
posterior_ok = bool(torch.allclose(row_sums, torch.ones_like(row_sums), atol=1e-5))
with torch.no_grad():
    paths = hmm.viterbi(scores, lengths)
decoded = torch.full((batch, T), -1)
for i, p in enumerate(paths):
    decoded[i, : len(p)] = torch.tensor(p)
viterbi_accuracy = (decoded == true_states)[mask].float().mean().item()
posterior_accuracy = (posteriors.argmax(-1) == true_states)[mask].float().mean().item()
learned_trans = hmm.trans_logits.softmax(-1).detach().flatten().tolist()
print(
    f"nll {nlls[0]:.3f} -> {nlls[-1]:.3f}; viterbi {viterbi_accuracy:.3f}; posterior {posterior_accuracy:.3f}"
)
