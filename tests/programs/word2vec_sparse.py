"""Skip-gram word2vec with negative sampling, trained the way large-vocabulary PyTorch code
does: nn.Embedding(sparse=True) tables, so each step's gradient holds only the rows looked
up, and optim.SparseAdam, which updates only those rows; losses from F.logsigmoid of
dot products, noise words from torch.multinomial over unigram^(3/4). A synthetic corpus whose
words come in topical groups; cosine neighbours should share a topic."""

import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOPICS = {
    "animals": "cat dog horse cow sheep goat".split(),
    "colours": "red green blue yellow purple orange".split(),
    "numbers": "one two three four five six".split(),
}
FILLER = "the a and of".split()


def make_corpus(n_sentences=300):
    words = []
    for _ in range(n_sentences):
        topic = random.choice(list(TOPICS))
        for _ in range(8):
            pick = TOPICS[topic] if random.random() < 0.75 else FILLER
            words.append(random.choice(pick))
    return words


class SkipGram(nn.Module):
    def __init__(self, vocab_size, dim):
        super().__init__()
        self.u_embeddings = nn.Embedding(vocab_size, dim, sparse=True)
        self.v_embeddings = nn.Embedding(vocab_size, dim, sparse=True)
        initrange = 1.0 / dim
        nn.init.uniform_(self.u_embeddings.weight.data, -initrange, initrange)
        nn.init.constant_(self.v_embeddings.weight.data, 0)

    def forward(self, pos_u, pos_v, neg_v):
        emb_u = self.u_embeddings(pos_u)
        emb_v = self.v_embeddings(pos_v)
        emb_neg_v = self.v_embeddings(neg_v)
        score = torch.sum(torch.mul(emb_u, emb_v), dim=1)
        score = torch.clamp(score, max=10, min=-10)
        score = -F.logsigmoid(score)
        neg_score = torch.bmm(emb_neg_v, emb_u.unsqueeze(2)).squeeze()
        neg_score = torch.clamp(neg_score, max=10, min=-10)
        neg_score = -torch.sum(F.logsigmoid(-neg_score), dim=1)
        return torch.mean(score + neg_score)


def pairs(ids, window=2):
    for i, centre in enumerate(ids):
        for j in range(max(0, i - window), min(len(ids), i + window + 1)):
            if j != i:
                yield centre, ids[j]


def main(epochs=3, batch_size=128, dim=16, n_neg=5, seed=0):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    corpus = make_corpus()
    vocab = sorted(set(corpus))
    word2idx = {w: i for i, w in enumerate(vocab)}
    ids = [word2idx[w] for w in corpus]
    counts = np.bincount(ids, minlength=len(vocab)).astype(np.float64)
    noise = torch.from_numpy(counts**0.75 / (counts**0.75).sum())
    all_pairs = list(pairs(ids))

    model = SkipGram(len(vocab), dim)
    optimizer = torch.optim.SparseAdam(list(model.parameters()), lr=0.02)
    losses = []
    for epoch in range(epochs):
        random.shuffle(all_pairs)
        for start in range(0, len(all_pairs) - batch_size + 1, batch_size):
            batch = all_pairs[start : start + batch_size]
            pos_u = torch.LongTensor([u for u, _ in batch])
            pos_v = torch.LongTensor([v for _, v in batch])
            neg_v = torch.multinomial(noise, len(batch) * n_neg, replacement=True)
            optimizer.zero_grad()
            loss = model(pos_u, pos_v, neg_v.view(len(batch), n_neg))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1}: loss {np.mean(losses[-20:]):.4f}")

    grad = model.u_embeddings.weight.grad
    with torch.no_grad():
        emb = F.normalize(model.u_embeddings.weight, dim=1)
        sims = emb @ emb.t()
        sims.fill_diagonal_(-1)
        _, closest = sims.topk(2, dim=1)
    same, checked = 0, 0
    for words in TOPICS.values():
        for w in words:
            neighbours = [vocab[i] for i in closest[word2idx[w]].tolist()]
            same += sum(n in words for n in neighbours)
            checked += len(neighbours)
    precision = same / checked
    print(f"neighbours in the same topic: {precision:.2f}")
    return losses, precision, grad


if __name__ == "__main__":
    main()
