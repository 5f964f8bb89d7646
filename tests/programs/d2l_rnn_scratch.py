"""A character-level RNN from scratch as d2l.ai's chapter 9 writes it: a tiny corpus
tokenised into characters with a ``Vocab`` built from ``collections.Counter``, minibatches by
``seq_data_iter_sequential`` (a random offset, ``torch.tensor(corpus[...]).reshape``),
``get_params`` with ``normal`` weights and ``requires_grad_(True)``, one-hot inputs
``F.one_hot(X.T, len(vocab))``, a ``RNNModelScratch`` class holding ``init_state`` and
``forward_fn``, ``rnn`` looping over time with ``torch.tanh(torch.mm(...))``, ``predict_ch8``
that warms up on a prefix, ``grad_clipping`` by the norm over all parameters (``torch.sqrt(sum(
torch.sum(p.grad ** 2) ...))``), ``state.detach_()`` between sequential batches, and
perplexity ``math.exp(loss / tokens)``; then the concise ``nn.RNN`` model (``RNNModel``
with an output ``nn.Linear``) trained the same way."""

import collections
import math
import random

import torch
from torch import nn
from torch.nn import functional as F

random.seed(0)
torch.manual_seed(0)
text = "the time machine by h g wells " * 5
tokens = list(text)


class Vocab:
    def __init__(self, tokens, reserved_tokens=None):
        counter = collections.Counter(tokens)
        self._token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = ["<unk>"] + (reserved_tokens or [])
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}
        for token, freq in self._token_freqs:
            if token not in self.token_to_idx:
                self.idx_to_token.append(token)
                self.token_to_idx[token] = len(self.idx_to_token) - 1

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, 0)
        return [self.__getitem__(token) for token in tokens]

    def to_tokens(self, indices):
        return [self.idx_to_token[int(index)] for index in indices]


vocab = Vocab(tokens)
corpus = vocab[tokens]


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset : offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1 : offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i : i + num_steps]
        Y = Ys[:, i : i + num_steps]
        yield X, Y


def get_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device),)


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)


class RNNModel(nn.Module):
    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        self.linear = nn.Linear(self.num_hiddens, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device, batch_size=1):
        return torch.zeros((self.rnn.num_layers, batch_size, self.num_hiddens), device=device)


def predict_ch8(prefix, num_preds, net, vocab, device):
    state = net.begin_state(batch_size=1, device=device)
    outputs = [vocab[prefix[0]]]

    def get_input():
        return torch.tensor([outputs[-1]], device=device).reshape((1, 1))

    for y in prefix[1:]:  # Warm-up period
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):  # Predict num_preds steps
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([vocab.idx_to_token[i] for i in outputs])


def grad_clipping(net, theta):
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad**2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    return float(norm)


def train_epoch_ch8(net, train_iter, loss, updater, device):
    state, total, tokens, norms = None, 0.0, 0, []
    for X, Y in train_iter:
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        elif isinstance(net, nn.Module) and not isinstance(state, tuple):
            state.detach_()
        else:
            for s in state:
                s.detach_()
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()  # noqa: E741 - as d2l names it
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            norms.append(grad_clipping(net, 1))
            updater.step()
        else:
            l.backward()
            norms.append(grad_clipping(net, 1))
            updater(batch_size=1)
        total += float(l * y.numel())
        tokens += y.numel()
    return math.exp(total / tokens), norms


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


device, batch_size, num_steps, num_hiddens, lr = torch.device("cpu"), 4, 8, 32, 2.0
net = RNNModelScratch(len(vocab), num_hiddens, device, get_params, init_rnn_state, rnn)
X = torch.arange(10).reshape((2, 5))
state = net.begin_state(X.shape[0], device)
Y, new_state = net(X, state)
scratch_shapes = [tuple(Y.shape), len(new_state), tuple(new_state[0].shape)]
untrained = predict_ch8("time ", 6, net, vocab, device)
loss = nn.CrossEntropyLoss()
scratch_ppl, scratch_norms = [], []
for epoch in range(10):
    train_iter = seq_data_iter_sequential(corpus, batch_size, num_steps)
    ppl, norms = train_epoch_ch8(
        net, train_iter, loss, lambda batch_size: sgd(net.params, lr, batch_size), device
    )
    scratch_ppl.append(ppl)
    scratch_norms.extend(norms[:2])
scratch_prediction = predict_ch8("time ", 10, net, vocab, device)

rnn_layer = nn.RNN(len(vocab), num_hiddens)
concise = RNNModel(rnn_layer, vocab_size=len(vocab))
state = torch.zeros((1, batch_size, num_hiddens))
Y, state_new = rnn_layer(torch.rand(size=(num_steps, batch_size, len(vocab))), state)
concise_shapes = [tuple(Y.shape), tuple(state_new.shape)]
updater = torch.optim.SGD(concise.parameters(), lr)
concise_ppl = []
for epoch in range(10):
    train_iter = seq_data_iter_sequential(corpus, batch_size, num_steps)
    concise_ppl.append(train_epoch_ch8(concise, train_iter, loss, updater, device)[0])
concise_prediction = predict_ch8("time ", 10, concise, vocab, device)
