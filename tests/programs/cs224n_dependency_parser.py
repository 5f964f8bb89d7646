"""CS224n assignment 3's neural transition-based dependency parser (Chen and Manning 2014), on
a toy grammar (``det adj* noun verb det adj* noun``): ``PartialParse`` with arc-standard
``parse_step`` (S, LA, RA), a static oracle making the training instances, ``minibatch_parse``
stepping a batch of unfinished parses together, ``ParserModel`` with pretrained NumPy
embeddings wrapped as ``nn.Parameter(torch.tensor(embeddings))``, ``embedding_lookup`` by
``torch.index_select`` and ``view``, hand-made weights initialised by ``nn.init.xavier_uniform_``
and ``uniform_``, dropout, ``nn.CrossEntropyLoss``, ``optim.Adam``, prediction under
``torch.no_grad()`` turned into NumPy with ``.numpy()`` and masked to legal transitions with
``+ 10000 * np.array(legal)``; evaluated by unlabelled attachment score (UAS)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

np.random.seed(0)
torch.manual_seed(0)
WORDS = {
    "det": ["the", "a", "every"],
    "adj": ["big", "red", "old", "quick"],
    "noun": ["dog", "cat", "ball", "man"],
    "verb": ["sees", "likes", "chases"],
}
tok2id = {"<ROOT>": 0, "<NULL>": 1}
for words in WORDS.values():
    for w in words:
        tok2id[w] = len(tok2id)
TRANSITIONS = ["S", "LA", "RA"]


def noun_phrase(rng, start):
    n_adj = rng.integers(0, 3)
    words = (
        [rng.choice(WORDS["det"])]
        + list(rng.choice(WORDS["adj"], n_adj))
        + [rng.choice(WORDS["noun"])]
    )
    noun = start + len(words)  # 1-based positions, 0 is ROOT
    return words, [noun] * (len(words) - 1), noun


def make_sentence(rng):
    subj, subj_heads, subj_noun = noun_phrase(rng, 0)
    verb = len(subj) + 1
    obj, obj_heads, obj_noun = noun_phrase(rng, verb)
    words = subj + [rng.choice(WORDS["verb"])] + obj
    heads = subj_heads + [verb, 0] + obj_heads + [verb]
    return [tok2id[w] for w in words], heads


class PartialParse(object):
    def __init__(self, sentence):
        self.sentence = sentence
        self.stack = [0]
        self.buffer = list(range(1, len(sentence) + 1))
        self.dependencies = []

    def parse_step(self, transition):
        if transition == "S":
            self.stack.append(self.buffer.pop(0))
        elif transition == "LA":
            dependent = self.stack.pop(-2)
            self.dependencies.append((self.stack[-1], dependent))
        elif transition == "RA":
            dependent = self.stack.pop()
            self.dependencies.append((self.stack[-1], dependent))

    def legal(self):
        return [len(self.buffer) > 0, len(self.stack) > 2, len(self.stack) > 1]

    def features(self):
        words = [0] + self.sentence
        stack = [words[i] for i in self.stack[-3:]]
        buffer = [words[i] for i in self.buffer[:3]]
        return [1] * (3 - len(stack)) + stack + buffer + [1] * (3 - len(buffer))


def oracle(sentence, heads):
    pp, instances = PartialParse(sentence), []
    gold = {i + 1: h for i, h in enumerate(heads)}
    while pp.buffer or len(pp.stack) > 1:
        s0 = pp.stack[-1]
        s1 = pp.stack[-2] if len(pp.stack) > 1 else None
        attached = {d for _, d in pp.dependencies}
        if s1 not in (None, 0) and gold[s1] == s0:
            t = "LA"
        elif (
            s1 is not None
            and gold[s0] == s1
            and all(gold[d] != s0 or d in attached for d in pp.buffer)
        ):
            t = "RA"
        else:
            t = "S"
        instances.append((pp.features(), pp.legal(), TRANSITIONS.index(t)))
        pp.parse_step(t)
    return instances


def minibatch_parse(sentences, model, batch_size):
    partial_parses = [PartialParse(s) for s in sentences]
    unfinished_parses = partial_parses[:]
    while unfinished_parses:
        minibatch = unfinished_parses[:batch_size]
        transitions = model.predict(minibatch)
        for parse, transition in zip(minibatch, transitions):
            parse.parse_step(transition)
        unfinished_parses = [p for p in unfinished_parses if p.buffer or len(p.stack) > 1]
    return [p.dependencies for p in partial_parses]


class ParserModel(nn.Module):
    def __init__(self, embeddings, n_features=6, hidden_size=32, n_classes=3, dropout_prob=0.3):
        super(ParserModel, self).__init__()
        self.n_features = n_features
        self.n_classes = n_classes
        self.dropout_prob = dropout_prob
        self.embed_size = embeddings.shape[1]
        self.hidden_size = hidden_size
        self.embeddings = nn.Parameter(torch.tensor(embeddings))
        self.embed_to_hidden_weight = nn.Parameter(
            torch.empty(self.n_features * self.embed_size, self.hidden_size)
        )
        nn.init.xavier_uniform_(self.embed_to_hidden_weight)
        self.embed_to_hidden_bias = nn.Parameter(torch.empty(self.hidden_size))
        nn.init.uniform_(self.embed_to_hidden_bias)
        self.dropout = nn.Dropout(p=self.dropout_prob)
        self.hidden_to_logits_weight = nn.Parameter(torch.empty(self.hidden_size, self.n_classes))
        nn.init.xavier_uniform_(self.hidden_to_logits_weight)
        self.hidden_to_logits_bias = nn.Parameter(torch.empty(self.n_classes))
        nn.init.uniform_(self.hidden_to_logits_bias)

    def embedding_lookup(self, w):
        x = torch.index_select(self.embeddings, 0, w.view(-1))
        return x.view(w.shape[0], self.n_features * self.embed_size)

    def forward(self, w):
        x = self.embedding_lookup(w)
        h = F.relu(torch.matmul(x, self.embed_to_hidden_weight) + self.embed_to_hidden_bias)
        logits = (
            torch.matmul(self.dropout(h), self.hidden_to_logits_weight) + self.hidden_to_logits_bias
        )
        return logits

    def predict(self, partial_parses):
        mb_x = torch.from_numpy(np.array([p.features() for p in partial_parses])).long()
        mb_l = [p.legal() for p in partial_parses]
        with torch.no_grad():
            pred = self(mb_x)
        pred = np.argmax(pred.numpy() + 10000 * np.array(mb_l).astype("float32"), 1)
        return [TRANSITIONS[p] for p in pred]


rng = np.random.default_rng(0)
train_set = [make_sentence(rng) for _ in range(40)]
dev_set = [make_sentence(rng) for _ in range(12)]
instances = [inst for s, h in train_set for inst in oracle(s, h)]
train_x = torch.tensor([f for f, _, _ in instances])
train_y = torch.tensor([t for _, _, t in instances])
pp = PartialParse(train_set[0][0])
for _, _, t in oracle(*train_set[0]):
    pp.parse_step(TRANSITIONS[t])
oracle_ok = sorted((d, h) for h, d in pp.dependencies) == [
    (i + 1, h) for i, h in enumerate(train_set[0][1])
]

embeddings = np.asarray(np.random.normal(0, 0.9, (len(tok2id), 8)), dtype="float32")
model = ParserModel(embeddings)
embedding_shape = tuple(model.embeddings.shape)
lookup_shape = tuple(model.embedding_lookup(train_x[:4]).shape)
optimizer = optim.Adam(model.parameters(), lr=0.01)
loss_func = nn.CrossEntropyLoss()


def evaluate(dataset):
    model.eval()
    deps = minibatch_parse([s for s, _ in dataset], model, batch_size=5)
    correct = total = 0
    for (s, heads), arcs in zip(dataset, deps):
        predicted = {d: h for h, d in arcs}
        correct += sum(predicted.get(i + 1) == h for i, h in enumerate(heads))
        total += len(heads)
    return correct / total


uas_before = evaluate(dev_set)
losses, uas = [], []
for epoch in range(3):
    model.train()
    perm = torch.randperm(len(train_y))
    epoch_loss = 0.0
    for i in range(0, len(perm), 32):
        idx = perm[i : i + 32]
        optimizer.zero_grad()
        logits = model(train_x[idx])
        loss = loss_func(logits, train_y[idx])
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    losses.append(epoch_loss)
    uas.append(evaluate(dev_set))
embedding_grad_rows = int((model.embeddings.grad.abs().sum(1) > 0).sum())
n_instances = len(train_y)
