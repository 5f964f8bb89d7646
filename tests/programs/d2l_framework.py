"""The small framework that Dive into Deep Learning 1.0 builds in chapter 3 and uses for the rest
of the book, as written for PyTorch: ``HyperParameters.save_hyperparameters`` (the caller's
arguments read with ``inspect.getargvalues`` and ``setattr`` onto the object, submodules
included), ``add_to_class`` to grow classes method by method, ``Module`` (with a
``ProgressBoard`` that averages every ``n`` points of ``value.to(cpu).detach().numpy()``),
``DataModule.get_tensorloader`` (``a[indices]`` by a ``slice``, ``TensorDataset``), and the
``Trainer`` whose ``fit_epoch`` calls ``loss.backward()`` and ``optim.step()`` inside
``torch.no_grad()`` and ``clip_gradients`` scales ``param.grad[:] *= grad_clip_val / norm``.
Trained with it: ``LinearRegressionScratch`` (``torch.normal(0, sigma, size,
requires_grad=True)``, the scratch ``SGD`` with ``param -= lr * param.grad``) on
``SyntheticRegressionData``, and chapter 9's ``RNNLM`` around a concise ``GRU`` on a tiny
``TimeMachine`` (``re.sub`` preprocessing, a ``Vocab``, ``F.one_hot(X.T, ...).type(
torch.float32)``, ``nn.LazyLinear`` output, ``.swapaxes(0, 1)``, ``Classifier.accuracy`` with
``argmax(axis=1).type(Y.dtype)``, ``predict`` by ``int(Y.argmax(axis=2).reshape(1))``)."""

import collections
import inspect
import re

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def add_to_class(Class):
    """Register functions as methods in created class."""

    def wrapper(obj):
        setattr(Class, obj.__name__, obj)

    return wrapper


class HyperParameters:
    """The base class of hyperparameters."""

    def save_hyperparameters(self, ignore=[]):
        frame = inspect.currentframe().f_back
        _, _, _, local_vars = inspect.getargvalues(frame)
        self.hparams = {k: v for k, v in local_vars.items() if k not in set(ignore + ["self"]) and not k.startswith("_")}  # fmt: skip
        for k, v in self.hparams.items():
            setattr(self, k, v)


class ProgressBoard(HyperParameters):
    """The board that plots data points in animation (here: keeps the averaged points)."""

    def __init__(self, xlabel=None, xlim=None):
        self.save_hyperparameters()
        self.raw_points, self.data = collections.OrderedDict(), collections.OrderedDict()

    def draw(self, x, y, label, every_n=1):
        if label not in self.raw_points:
            self.raw_points[label], self.data[label] = [], []
        points, line = self.raw_points[label], self.data[label]
        points.append((x, y))
        if len(points) != every_n:
            return
        line.append((np.mean([p[0] for p in points]), float(np.mean([p[1] for p in points]))))
        points.clear()


class Module(nn.Module, HyperParameters):
    """The base class of models."""

    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        self.save_hyperparameters()
        self.board = ProgressBoard()

    def loss(self, y_hat, y):
        raise NotImplementedError

    def forward(self, X):
        assert hasattr(self, "net"), "Neural network is defined"
        return self.net(X)

    def plot(self, key, value, train):
        """Plot a point in animation."""
        assert hasattr(self, "trainer"), "Trainer is not inited"
        self.board.xlabel = "epoch"
        if train:
            x = self.trainer.train_batch_idx / self.trainer.num_train_batches
            n = self.trainer.num_train_batches / self.plot_train_per_epoch
        else:
            x = self.trainer.epoch + 1
            n = self.trainer.num_val_batches / self.plot_valid_per_epoch
        self.board.draw(x, value.to(torch.device("cpu")).detach().numpy(), ("train_" if train else "val_") + key, every_n=int(n))  # fmt: skip

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741 (the book's name)
        self.plot("loss", l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741
        self.plot("loss", l, train=False)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


class DataModule(HyperParameters):
    """The base class of data."""

    def __init__(self, root="../data", num_workers=4):
        self.save_hyperparameters()

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)

    def get_tensorloader(self, tensors, train, indices=slice(0, None)):
        tensors = tuple(a[indices] for a in tensors)
        dataset = torch.utils.data.TensorDataset(*tensors)
        return torch.utils.data.DataLoader(dataset, self.batch_size, shuffle=train)


class Trainer(HyperParameters):
    """The base class for training models with data."""

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()
        assert num_gpus == 0, "No GPU support yet"

    def prepare_data(self, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model):
        model.trainer = self
        model.board.xlim = [0, self.max_epochs]
        self.model = model

    def prepare_batch(self, batch):
        return batch

    def fit(self, model, data):
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        for self.epoch in range(self.max_epochs):
            self.fit_epoch()


@add_to_class(Trainer)
def fit_epoch(self):
    self.model.train()
    for batch in self.train_dataloader:
        loss = self.model.training_step(self.prepare_batch(batch))
        self.optim.zero_grad()
        with torch.no_grad():
            loss.backward()
            if self.gradient_clip_val > 0:  # To be discussed later
                self.clip_gradients(self.gradient_clip_val, self.model)
            self.optim.step()
        self.train_batch_idx += 1
    if self.val_dataloader is None:
        return
    self.model.eval()
    for batch in self.val_dataloader:
        with torch.no_grad():
            self.model.validation_step(self.prepare_batch(batch))
        self.val_batch_idx += 1


@add_to_class(Trainer)
def clip_gradients(self, grad_clip_val, model):
    params = [p for p in model.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad**2)) for p in params))
    self.norms.append(norm.item())
    if norm > grad_clip_val:
        for param in params:
            param.grad[:] *= grad_clip_val / norm


# --- 3.3-3.4: synthetic regression from scratch
class SyntheticRegressionData(DataModule):
    """Synthetic data for linear regression."""

    def __init__(self, w, b, noise=0.01, num_train=1000, num_val=1000, batch_size=32):
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, len(w))
        noise = torch.randn(n, 1) * noise
        self.y = torch.matmul(self.X, w.reshape((-1, 1))) + b + noise

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class LinearRegressionScratch(Module):
    """The linear regression model implemented from scratch."""

    def __init__(self, num_inputs, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.normal(0, sigma, (num_inputs, 1), requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)

    def forward(self, X):
        return torch.matmul(X, self.w) + self.b

    def loss(self, y_hat, y):
        l = (y_hat - y) ** 2 / 2  # noqa: E741
        return l.mean()

    def configure_optimizers(self):
        return SGD([self.w, self.b], self.lr)


class SGD(HyperParameters):
    """Minibatch stochastic gradient descent."""

    def __init__(self, params, lr):
        self.save_hyperparameters()

    def step(self):
        for param in self.params:
            param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


torch.manual_seed(0)
model = LinearRegressionScratch(2, lr=0.2)
data = SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2, num_train=96, num_val=32)
trainer = Trainer(max_epochs=8)
trainer.fit(model, data)
hparams = sorted(model.hparams) + sorted(trainer.hparams)
with torch.no_grad():
    errors = [(data.w - model.w.reshape(data.w.shape)).tolist(), (data.b - model.b).item()]
regression_board = {k: v for k, v in model.board.data.items()}
w_type = [type(model.w).__name__, model.w.requires_grad, model.w.is_leaf]


# --- 4.3 and 9.5-10.2: classifiers and an RNN language model
class Classifier(Module):
    """The base class of classification models."""

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot("loss", self.loss(Y_hat, batch[-1]), train=False)
        self.plot("acc", self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(axis=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        Y = Y.reshape((-1,))
        return F.cross_entropy(Y_hat, Y, reduction="mean" if averaged else "none")


class Vocab:
    """Vocabulary for text."""

    def __init__(self, tokens=[], min_freq=0, reserved_tokens=[]):
        counter = collections.Counter(tokens)
        self.token_freqs = sorted(counter.items(), key=lambda x: x[1], reverse=True)
        self.idx_to_token = list(sorted(set(["<unk>"] + reserved_tokens + [token for token, freq in self.token_freqs if freq >= min_freq])))  # fmt: skip
        self.token_to_idx = {token: idx for idx, token in enumerate(self.idx_to_token)}

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if not isinstance(tokens, (list, tuple)):
            return self.token_to_idx.get(tokens, self.unk)
        return [self.__getitem__(token) for token in tokens]

    @property
    def unk(self):
        return self.token_to_idx["<unk>"]


class TimeMachine(DataModule):
    """The Time Machine dataset (its opening lines)."""

    def _download(self):
        return (
            "The Time Traveller (for so it will be convenient to speak of him) was expounding a "
            "recondite matter to us. His grey eyes shone and twinkled, and his usually pale face "
            "was flushed and animated. The fire burned brightly, and the soft radiance of the "
            "incandescent lights in the lilies of silver caught the bubbles that flashed and "
            "passed in our glasses. Our chairs, being his patents, embraced and caressed us "
            "rather than submitted to be sat upon, and there was that luxurious after-dinner "
            "atmosphere when thought roams gracefully free of the trammels of precision."
        )

    def _preprocess(self, text):
        return re.sub("[^A-Za-z]+", " ", text).lower()

    def _tokenize(self, text):
        return list(text)

    def build(self, raw_text, vocab=None):
        tokens = self._tokenize(self._preprocess(raw_text))
        if vocab is None:
            vocab = Vocab(tokens)
        corpus = [vocab[token] for token in tokens]
        return corpus, vocab

    def __init__(self, batch_size, num_steps, num_train=10000, num_val=5000):
        super(TimeMachine, self).__init__()
        self.save_hyperparameters()
        corpus, self.vocab = self.build(self._download())
        array = torch.tensor([corpus[i : i + num_steps + 1] for i in range(len(corpus) - num_steps)])  # fmt: skip
        self.X, self.Y = array[:, :-1], array[:, 1:]

    def get_dataloader(self, train):
        idx = slice(0, self.num_train) if train else slice(self.num_train, self.num_train + self.num_val)  # fmt: skip
        return self.get_tensorloader([self.X, self.Y], train, idx)


class RNNLMScratch(Classifier):
    """The RNN-based language model implemented from scratch."""

    def __init__(self, rnn, vocab_size, lr=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.init_params()

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741
        self.plot("ppl", torch.exp(l), train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])  # noqa: E741
        self.plot("ppl", torch.exp(l), train=False)

    def one_hot(self, X):
        # Output shape: (num_steps, batch_size, vocab_size)
        return F.one_hot(X.T, self.vocab_size).type(torch.float32)

    def forward(self, X, state=None):
        embs = self.one_hot(X)
        rnn_outputs, _ = self.rnn(embs, state)
        return self.output_layer(rnn_outputs)

    def predict(self, prefix, num_preds, vocab, device=None):
        state, outputs = None, [vocab[prefix[0]]]
        for i in range(len(prefix) + num_preds - 1):
            X = torch.tensor([[outputs[-1]]], device=device)
            embs = self.one_hot(X)
            rnn_outputs, state = self.rnn(embs, state)
            if i < len(prefix) - 1:  # Warm-up period
                outputs.append(vocab[prefix[i + 1]])
            else:  # Predict num_preds steps
                Y = self.output_layer(rnn_outputs)
                outputs.append(int(Y.argmax(axis=2).reshape(1)))
        return "".join([vocab.idx_to_token[i] for i in outputs])


class RNNLM(RNNLMScratch):
    """The RNN-based language model implemented with high-level APIs."""

    def init_params(self):
        self.linear = nn.LazyLinear(self.vocab_size)

    def output_layer(self, hiddens):
        return self.linear(hiddens).swapaxes(0, 1)


class GRU(Module):
    def __init__(self, num_inputs, num_hiddens):
        Module.__init__(self)
        self.save_hyperparameters()
        self.rnn = nn.GRU(num_inputs, num_hiddens)

    def forward(self, inputs, H=None):
        return self.rnn(inputs, H)


torch.manual_seed(0)
data = TimeMachine(batch_size=32, num_steps=8, num_train=256, num_val=64)
gru = GRU(num_inputs=len(data.vocab), num_hiddens=16)
model = RNNLM(gru, vocab_size=len(data.vocab), lr=2)
trainer = Trainer(max_epochs=4, gradient_clip_val=0.15, num_gpus=0)
trainer.norms = []
trainer.fit(model, data)
lm_board = {k: v for k, v in model.board.data.items()}
clip_norms = trainer.norms
lm_modules = [name for name, _ in model.named_children()]
with torch.no_grad():
    X, Y = next(iter(data.val_dataloader()))
    lm_accuracy = model.accuracy(model(X), Y).item()
    prediction = model.predict("it has", 12, data.vocab)
