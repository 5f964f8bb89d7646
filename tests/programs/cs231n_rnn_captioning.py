"""CS231n assignment 3's RNN/LSTM captioning notebooks in their PyTorch edition
(``rnn_layers_pytorch.py``): the layers written on bare tensors (``rnn_step_forward``,
``rnn_forward`` writing ``h[:, t, :]`` step by step, ``word_embedding_forward`` as ``W[x]``,
``lstm_step_forward`` slicing i, f, o, g gates out of one affine, ``temporal_affine_forward``,
``temporal_softmax_loss`` with ``cross_entropy(reduction='none')`` multiplied by a boolean
mask), checked as the notebook checks them: inputs from ``torch.linspace(...).reshape``,
``rel_error`` against a NumPy reference, a hand-written ``rnn_step_backward`` against
``torch.autograd.grad``, and the LSTM step against ``nn.LSTMCell`` with its gate blocks
reordered; then ``CaptioningRNN`` holding a ``self.params`` dict of ``requires_grad`` tensors,
overfit on a few captions with ``torch.optim.Adam(model.params.values())`` and minibatches
from ``np.random.choice``, and greedy ``sample`` (``torch.argmax(scores, axis=1)``, the
NumPy-style keyword) decoding the captions back to words."""

import numpy as np
import torch


def rel_error(x, y):
    """returns relative error"""
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1).mm(w) + b


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    return torch.tanh(x.mm(Wx) + prev_h.mm(Wh) + b)


def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, next_h):
    dtanh = dnext_h * (1 - next_h**2)
    return dtanh.mm(Wx.t()), dtanh.mm(Wh.t()), x.t().mm(dtanh), prev_h.t().mm(dtanh), dtanh.sum(0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = torch.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h = h0
    for t in range(T):
        prev_h = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
    return h


def word_embedding_forward(x, W):
    return W[x]


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.mm(Wx) + prev_h.mm(Wh) + b
    i = torch.sigmoid(a[:, :H])
    f = torch.sigmoid(a[:, H : 2 * H])
    o = torch.sigmoid(a[:, 2 * H : 3 * H])
    g = torch.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * torch.tanh(next_c)
    return next_h, next_c


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    return x.reshape(N * T, D).mm(w).reshape(N, T, M) + b


def temporal_softmax_loss(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    loss = torch.nn.functional.cross_entropy(x_flat, y_flat, reduction="none")
    loss = torch.mul(loss, mask_flat)
    return torch.sum(loss) / N


# --- the notebook's checks
N, D, H = 3, 10, 4
x = torch.linspace(-0.4, 0.7, steps=N * D).reshape(N, D)
prev_h = torch.linspace(-0.2, 0.5, steps=N * H).reshape(N, H)
Wx = torch.linspace(-0.1, 0.9, steps=D * H).reshape(D, H)
Wh = torch.linspace(-0.3, 0.7, steps=H * H).reshape(H, H)
b = torch.linspace(-0.2, 0.4, steps=H)
next_h = rnn_step_forward(x, prev_h, Wx, Wh, b)
xn, hn = np.linspace(-0.4, 0.7, num=N * D).reshape(N, D), np.linspace(-0.2, 0.5, num=N * H).reshape(N, H)  # fmt: skip
Wxn, Whn = np.linspace(-0.1, 0.9, num=D * H).reshape(D, H), np.linspace(-0.3, 0.7, num=H * H).reshape(H, H)  # fmt: skip
expected_next_h = np.tanh(xn.dot(Wxn) + hn.dot(Whn) + np.linspace(-0.2, 0.4, num=H))
step_error = rel_error(expected_next_h, next_h.numpy())
next_h_sample = next_h[0].tolist()

params = [t.clone().requires_grad_() for t in (x, prev_h, Wx, Wh, b)]
out = rnn_step_forward(*params)
dnext_h = torch.linspace(-1.0, 1.0, steps=N * H).reshape(N, H)
auto = torch.autograd.grad(out, params, dnext_h)
manual = rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, next_h)
backward_errors = [rel_error(m.numpy(), a.numpy()) for m, a in zip(manual, auto)]

T = 3
xs = torch.linspace(-0.1, 0.3, steps=N * T * D).reshape(N, T, D)
h0 = torch.linspace(-0.3, 0.1, steps=N * H).reshape(N, H)
hs = rnn_forward(xs, h0, Wx, Wh, b)
rnn_forward_sample = hs[:, -1, :].tolist()
W_embed = torch.linspace(0, 1, steps=5 * 3).reshape(5, 3)
embedded = word_embedding_forward(torch.tensor([[0, 3, 1, 2], [2, 1, 0, 3]]), W_embed)
embedding_shape = tuple(embedded.shape)

Wx4 = torch.linspace(-2.1, 1.3, steps=4 * D * H).reshape(D, 4 * H)
Wh4 = torch.linspace(-0.7, 2.2, steps=4 * H * H).reshape(H, 4 * H)
b4 = 0.3 * torch.linspace(0.3, 0.7, steps=4 * H)
prev_c = torch.linspace(-0.4, 0.9, steps=N * H).reshape(N, H)
lstm_h, lstm_c = lstm_step_forward(x, prev_h, prev_c, Wx4, Wh4, b4)
cell = torch.nn.LSTMCell(D, H)
with torch.no_grad():  # PyTorch orders the gates i, f, g, o; the assignment i, f, o, g
    order = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])  # fmt: skip
    cell.weight_ih.copy_(Wx4[:, order].t())
    cell.weight_hh.copy_(Wh4[:, order].t())
    cell.bias_ih.copy_(b4[order])
    cell.bias_hh.zero_()
    ref_h, ref_c = cell(x, (prev_h, prev_c))
lstm_errors = [rel_error(lstm_h.numpy(), ref_h.numpy()), rel_error(lstm_c.numpy(), ref_c.numpy())]

scores = torch.linspace(-1, 1, steps=2 * 3 * 5).reshape(2, 3, 5)
targets = torch.tensor([[1, 2, 0], [4, 0, 0]])
masked_loss = temporal_softmax_loss(scores, targets, targets != 0).item()


# --- the captioning model
class CaptioningRNN:
    def __init__(self, word_to_idx, input_dim=12, wordvec_dim=8, hidden_dim=16, cell_type="rnn"):
        self.cell_type = cell_type
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        vocab_size = len(word_to_idx)
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx.get("<START>", None)
        self._end = word_to_idx.get("<END>", None)
        dim_mul = {"lstm": 4, "rnn": 1}[cell_type]
        self.params = {
            "W_embed": torch.randn(vocab_size, wordvec_dim) / 100,
            "W_proj": torch.randn(input_dim, hidden_dim) / np.sqrt(input_dim),
            "b_proj": torch.zeros(hidden_dim),
            "Wx": torch.randn(wordvec_dim, dim_mul * hidden_dim) / np.sqrt(wordvec_dim),
            "Wh": torch.randn(hidden_dim, dim_mul * hidden_dim) / np.sqrt(hidden_dim),
            "b": torch.zeros(dim_mul * hidden_dim),
            "W_vocab": torch.randn(hidden_dim, vocab_size) / np.sqrt(hidden_dim),
            "b_vocab": torch.zeros(vocab_size),
        }
        for v in self.params.values():
            v.requires_grad_()

    def loss(self, features, captions):
        captions_in = captions[:, :-1]
        captions_out = captions[:, 1:]
        mask = captions_out != self._null
        p = self.params
        h0 = affine_forward(features, p["W_proj"], p["b_proj"])
        x = word_embedding_forward(captions_in, p["W_embed"])
        if self.cell_type == "rnn":
            h = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        else:
            prev_h, prev_c, hs = h0, torch.zeros_like(h0), []
            for t in range(x.shape[1]):
                prev_h, prev_c = lstm_step_forward(x[:, t], prev_h, prev_c, p["Wx"], p["Wh"], p["b"])  # fmt: skip
                hs.append(prev_h)
            h = torch.stack(hs, dim=1)
        scores = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        return temporal_softmax_loss(scores, captions_out, mask)

    def sample(self, features, max_length=6):
        N = features.shape[0]
        captions = self._null * torch.ones((N, max_length), dtype=torch.long)
        p = self.params
        with torch.no_grad():
            prev_h = affine_forward(features, p["W_proj"], p["b_proj"])
            prev_c = torch.zeros_like(prev_h)
            word = self._start * torch.ones(N, dtype=torch.long)
            for t in range(max_length):
                x = word_embedding_forward(word, p["W_embed"])
                if self.cell_type == "rnn":
                    prev_h = rnn_step_forward(x, prev_h, p["Wx"], p["Wh"], p["b"])
                else:
                    prev_h, prev_c = lstm_step_forward(x, prev_h, prev_c, p["Wx"], p["Wh"], p["b"])  # fmt: skip
                scores = affine_forward(prev_h, p["W_vocab"], p["b_vocab"])
                word = torch.argmax(scores, axis=1)
                captions[:, t] = word
        return captions


def decode_captions(captions, idx_to_word):
    decoded = []
    for i in range(captions.shape[0]):
        words = []
        for t in range(captions.shape[1]):
            word = idx_to_word[int(captions[i, t])]
            if word != "<NULL>":
                words.append(word)
            if word == "<END>":
                break
        decoded.append(" ".join(words))
    return decoded


vocab = ["<NULL>", "<START>", "<END>", "a", "dog", "cat", "on", "the", "grass", "sofa", "red"]
word_to_idx = {w: i for i, w in enumerate(vocab)}
sentences = ["a dog on the grass", "a cat on the sofa", "a red dog", "the cat"]
captions = torch.zeros((4, 7), dtype=torch.long)
for i, s in enumerate(sentences):
    ids = [1] + [word_to_idx[w] for w in s.split()] + [2]
    captions[i, : len(ids)] = torch.tensor(ids)
np.random.seed(231)
torch.manual_seed(231)
features = torch.randn(4, 12)

histories, samples = {}, {}
for cell_type in ("rnn", "lstm"):
    model = CaptioningRNN(word_to_idx, cell_type=cell_type)
    optimizer = torch.optim.Adam(model.params.values(), lr=0.05)
    history = []
    for it in range(12):
        batch_mask = np.random.choice(4, 3)
        loss = model.loss(features[batch_mask], captions[batch_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    histories[cell_type] = history
    samples[cell_type] = decode_captions(model.sample(features), model.idx_to_word)
