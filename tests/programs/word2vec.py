"""Word2vec skip-gram with negative sampling (Mikolov et al. 2013) as people write it for
PyTorch: Counter-built vocabulary, subsampling of frequent words, a unigram^(3/4) noise
distribution sampled with torch.multinomial, two nn.Embedding tables, scores by torch.bmm,
F.logsigmoid losses, Adam on the (dense) embedding gradients, and cosine-similarity
neighbours from F.normalize; on a synthetic corpus where words come in topical groups."""

import random
from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

random.seed(0)
np.random.seed(0)
torch.manual_seed(0)

TOPICS = {
    "animals": "cat dog horse cow sheep goat".split(),
    "colours": "red green blue yellow purple orange".split(),
    "numbers": "one two three four five six".split(),
}
FILLER = "the a and of".split()


def make_corpus(n_sentences=400):
    words = []
    for _ in range(n_sentences):
        topic = random.choice(list(TOPICS))
        for _ in range(8):
            words.append(
                random.choice(TOPICS[topic]) if random.random() < 0.7 else random.choice(FILLER)
            )
    return words


corpus = make_corpus()
counts = Counter(corpus)
vocab = sorted(counts, key=counts.get, reverse=True)
word2idx = {w: i for i, w in enumerate(vocab)}
idx2word = {i: w for w, i in word2idx.items()}
int_words = [word2idx[w] for w in corpus]

# subsampling of frequent words (Mikolov's formula)
threshold = 2e-2
total = len(int_words)
freqs = {word: count / total for word, count in Counter(int_words).items()}
p_drop = {word: 1 - np.sqrt(threshold / freqs[word]) for word in freqs}
train_words = [word for word in int_words if random.random() < (1 - p_drop[word])]

# noise distribution for negative sampling
word_freqs = np.array(sorted(freqs.values(), reverse=True))
unigram_dist = word_freqs / word_freqs.sum()
noise_dist = torch.from_numpy(unigram_dist**0.75 / np.sum(unigram_dist**0.75))


def get_target(words, idx, window_size=3):
    R = np.random.randint(1, window_size + 1)
    start = idx - R if (idx - R) > 0 else 0
    stop = idx + R
    return list(words[start:idx] + words[idx + 1 : stop + 1])


def get_batches(words, batch_size, window_size=3):
    n_batches = len(words) // batch_size
    words = words[: n_batches * batch_size]
    for idx in range(0, len(words), batch_size):
        x, y = [], []
        batch = words[idx : idx + batch_size]
        for ii in range(len(batch)):
            batch_x = batch[ii]
            batch_y = get_target(batch, ii, window_size)
            y.extend(batch_y)
            x.extend([batch_x] * len(batch_y))
        yield x, y


class SkipGramNeg(nn.Module):
    def __init__(self, n_vocab, n_embed, noise_dist=None):
        super().__init__()
        self.n_vocab = n_vocab
        self.n_embed = n_embed
        self.noise_dist = noise_dist
        self.in_embed = nn.Embedding(n_vocab, n_embed)
        self.out_embed = nn.Embedding(n_vocab, n_embed)
        self.in_embed.weight.data.uniform_(-1, 1)
        self.out_embed.weight.data.uniform_(-1, 1)

    def forward_input(self, input_words):
        return self.in_embed(input_words)

    def forward_output(self, output_words):
        return self.out_embed(output_words)

    def forward_noise(self, batch_size, n_samples):
        """Generate noise vectors with shape (batch_size, n_samples, n_embed)"""
        if self.noise_dist is None:
            noise_dist = torch.ones(self.n_vocab)
        else:
            noise_dist = self.noise_dist
        noise_words = torch.multinomial(noise_dist, batch_size * n_samples, replacement=True)
        device = "cuda" if self.out_embed.weight.is_cuda else "cpu"
        noise_words = noise_words.to(device)
        return self.out_embed(noise_words).view(batch_size, n_samples, self.n_embed)


class NegativeSamplingLoss(nn.Module):
    def forward(self, input_vectors, output_vectors, noise_vectors):
        batch_size, embed_size = input_vectors.shape
        input_vectors = input_vectors.view(batch_size, embed_size, 1)  # column vectors
        output_vectors = output_vectors.view(batch_size, 1, embed_size)  # row vectors
        out_loss = torch.bmm(output_vectors, input_vectors).sigmoid().log()
        out_loss = out_loss.squeeze()
        noise_loss = torch.bmm(noise_vectors.neg(), input_vectors).sigmoid().log()
        noise_loss = noise_loss.squeeze().sum(1)
        return -(out_loss + noise_loss).mean()


def logsigmoid_loss(input_vectors, output_vectors, noise_vectors):
    """The same loss with F.logsigmoid (stable for large scores)."""
    pos = F.logsigmoid((input_vectors * output_vectors).sum(-1))
    neg = F.logsigmoid(-torch.bmm(noise_vectors, input_vectors.unsqueeze(2)).squeeze(2)).sum(1)
    return -(pos + neg).mean()


embedding_dim = 16
model = SkipGramNeg(len(vocab), embedding_dim, noise_dist=noise_dist)
criterion = NegativeSamplingLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.02)

losses, gaps = [], []
for e in range(8):
    for input_words, target_words in get_batches(train_words, 64):
        inputs, targets = torch.LongTensor(input_words), torch.LongTensor(target_words)
        input_vectors = model.forward_input(inputs)
        output_vectors = model.forward_output(targets)
        noise_vectors = model.forward_noise(inputs.shape[0], 5)
        loss = criterion(input_vectors, output_vectors, noise_vectors)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        with torch.no_grad():
            gaps.append(
                abs(
                    logsigmoid_loss(input_vectors, output_vectors, noise_vectors).item()
                    - loss.item()
                )
            )
    print(f"Epoch: {e + 1}/8 Loss: {np.mean(losses[-10:]):.4f}")

# nearest neighbours by cosine similarity
with torch.no_grad():
    embeddings = F.normalize(model.in_embed.weight, dim=1)
    similarities = embeddings @ embeddings.t()
    similarities.fill_diagonal_(-1)
    _, closest = similarities.topk(3, dim=1)
same_topic = 0
checked = 0
for topic, words in TOPICS.items():
    for w in words:
        neighbours = [idx2word[i] for i in closest[word2idx[w]].tolist()]
        same_topic += sum(n in words for n in neighbours)
        checked += len(neighbours)
    print(topic, words[0], "->", [idx2word[i] for i in closest[word2idx[words[0]]].tolist()])
topic_precision = same_topic / checked
print(f"neighbours in the same topic: {topic_precision:.2f}")
