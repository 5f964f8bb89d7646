"""fast.ai's "Deep Learning from the Foundations" (course part 2, lessons 9-11) notebooks as
students retype them: a ``Learner`` driving a ``Callback`` list through ``getattr`` hooks and
``CancelTrainException``, a ``ParamScheduler`` fed by ``combine_scheds`` of cosine pieces
(``torch.tensor(pcts).cumsum(0)``, ``(pos >= pcts).nonzero().max()``), ``Hooks`` that record
activation means, stds and ``histc`` histograms through ``register_forward_hook`` (removed with
``hook.remove()`` in ``__del__``/context exit), ``GeneralRelu`` (leaky, subtracted, clamped),
``init.kaiming_normal_`` and LSUV initialisation (``while abs(h.mean) > 1e-3: m.bias -= h.mean``
then dividing ``weight.data`` by the std), and lesson 10's own ``BatchNorm`` (buffers by
``register_buffer``, running statistics by ``self.means.lerp_(m, self.mom)`` under
``torch.no_grad()``, ``x.var((0, 2, 3), keepdim=True)``) trained by the same ``Runner``."""

import math
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import init

torch.manual_seed(42)


class CancelTrainException(Exception):
    pass


class Callback:
    _order = 0

    def set_runner(self, run):
        self.run = run

    def __getattr__(self, k):
        return getattr(self.run, k)


class Recorder(Callback):
    def begin_fit(self):
        self.lrs, self.losses = [], []

    def after_batch(self):
        if not self.in_train:
            return
        self.lrs.append(self.opt.param_groups[-1]["lr"])
        self.losses.append(self.loss.detach().item())


class ParamScheduler(Callback):
    _order = 1

    def __init__(self, pname, sched_func):
        self.pname, self.sched_func = pname, sched_func

    def set_param(self):
        for pg in self.opt.param_groups:
            pg[self.pname] = self.sched_func(self.n_epochs / self.epochs)

    def begin_batch(self):
        if self.in_train:
            self.set_param()


class StopAfter(Callback):
    _order = 2

    def __init__(self, n_iter):
        self.n_iter = n_iter

    def after_step(self):
        if self.n_iter_done >= self.n_iter:
            raise CancelTrainException()


def annealer(f):
    def _inner(start, end):
        return partial(f, start, end)

    return _inner


@annealer
def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combine_scheds(pcts, scheds):
    assert sum(pcts) == 1.0
    pcts = torch.tensor([0] + list(pcts))
    assert torch.all(pcts >= 0)
    pcts = torch.cumsum(pcts, 0)

    def _inner(pos):
        idx = (pos >= pcts).nonzero().max()
        if idx == 2:
            idx = 1
        actual_pos = (pos - pcts[idx]) / (pcts[idx + 1] - pcts[idx])
        return scheds[idx](actual_pos)

    return _inner


class Runner:
    def __init__(self, model, opt, loss_func, train_dl, valid_dl, cbs):
        self.model, self.opt, self.loss_func = model, opt, loss_func
        self.train_dl, self.valid_dl = train_dl, valid_dl
        self.cbs = sorted(cbs, key=lambda cb: cb._order)
        for cb in self.cbs:
            cb.set_runner(self)

    def __call__(self, cb_name):
        return any(getattr(cb, cb_name, None) and getattr(cb, cb_name)() for cb in self.cbs)

    def one_batch(self, xb, yb):
        self.xb, self.yb = xb, yb
        self("begin_batch")
        self.pred = self.model(self.xb)
        self.loss = self.loss_func(self.pred, self.yb)
        if not self.in_train:
            return
        self.loss.backward()
        self.n_iter_done += 1
        self.opt.step()
        self("after_step")
        self.opt.zero_grad()
        self("after_batch")

    def fit(self, epochs):
        self.epochs, self.n_iter_done, self.valid_losses = epochs, 0, []
        self("begin_fit")
        try:
            for epoch in range(epochs):
                self.model.train()
                self.in_train = True
                for i, (xb, yb) in enumerate(self.train_dl):
                    self.n_epochs = epoch + i / len(self.train_dl)
                    self.one_batch(xb, yb)
                self.model.eval()
                self.in_train = False
                with torch.no_grad():
                    self.valid_losses.append(
                        sum(self.loss_func(self.model(xb), yb).item() for xb, yb in self.valid_dl)
                    )
        except CancelTrainException:
            self.cancelled = True


class GeneralRelu(nn.Module):
    def __init__(self, leak=None, sub=None, maxv=None):
        super().__init__()
        self.leak, self.sub, self.maxv = leak, sub, maxv

    def forward(self, x):
        x = F.leaky_relu(x, self.leak) if self.leak is not None else F.relu(x)
        if self.sub is not None:
            x.sub_(self.sub)
        if self.maxv is not None:
            x.clamp_max_(self.maxv)
        return x


class Hook:
    def __init__(self, m, f):
        self.hook = m.register_forward_hook(partial(f, self))

    def remove(self):
        self.hook.remove()

    def __del__(self):
        self.remove()


def append_stats(hook, mod, inp, outp):
    if not hasattr(hook, "stats"):
        hook.stats = ([], [], [])
    means, stds, hists = hook.stats
    means.append(outp.data.mean().item())
    stds.append(outp.data.std().item())
    hists.append(outp.data.cpu().histc(12, -2, 4))


class Hooks(list):
    def __init__(self, ms, f):
        super().__init__([Hook(m, f) for m in ms])

    def __enter__(self, *args):
        return self

    def __exit__(self, *args):
        for h in self:
            h.remove()


def conv_layer(ni, nf, ks=3, stride=2, **kwargs):
    return nn.Sequential(
        nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride), GeneralRelu(**kwargs)
    )


def get_cnn_model():
    return nn.Sequential(
        conv_layer(1, 8, 5, **gr), conv_layer(8, 16, **gr), conv_layer(16, 16, **gr),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 3),
    )  # fmt: skip


gr = dict(leak=0.1, sub=0.4, maxv=6.0)
templates = torch.randn(3, 1, 12, 12)
y_all = torch.randint(0, 3, (96,))
x_all = templates[y_all] + 0.7 * torch.randn(96, 1, 12, 12)
x_all = (x_all - x_all.mean()) / x_all.std()
train_dl = list(zip(x_all[:64].split(16), y_all[:64].split(16)))
valid_dl = list(zip(x_all[64:].split(16), y_all[64:].split(16)))

model = get_cnn_model()
for layer in model:
    if isinstance(layer, nn.Sequential):
        init.kaiming_normal_(layer[0].weight, a=0.1)
        layer[0].bias.data.zero_()


def lsuv_module(m, xb):
    h = Hook(m, append_stats)
    n = 0
    while model(xb) is not None and abs(h.stats[0][-1]) > 1e-3 and n < 20:
        m[0].bias.data -= h.stats[0][-1]
        n += 1
    while model(xb) is not None and abs(h.stats[1][-1] - 1) > 1e-3 and n < 40:
        m[0].weight.data /= h.stats[1][-1]
        n += 1
    h.remove()
    return h.stats[0][-1], h.stats[1][-1]


lsuv = [lsuv_module(m, train_dl[0][0]) for m in model if isinstance(m, nn.Sequential)]
sched = combine_scheds([0.3, 0.7], [sched_cos(0.05, 0.3), sched_cos(0.3, 0.01)])
sched_values = [sched(p) for p in (0.0, 0.15, 0.3, 0.65, 1.0)]
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
recorder = Recorder()
run = Runner(
    model, opt, F.cross_entropy, train_dl, valid_dl, [recorder, ParamScheduler("lr", sched)]
)
with Hooks([m for m in model if isinstance(m, nn.Sequential)], append_stats) as hooks:
    run.fit(3)
    layer_means = [h.stats[0][::4] for h in hooks]
    layer_stds = [h.stats[1][::4] for h in hooks]
    first_hist = hooks[0].stats[2][0].tolist()
    last_hist_total = hooks[-1].stats[2][-1].sum().item()
hooks_removed = all(len(m._forward_hooks) == 0 for m in model)
stopper = Runner(
    model,
    torch.optim.SGD(model.parameters(), lr=0.01),
    F.cross_entropy,
    train_dl,
    valid_dl,
    [StopAfter(3)],
)
stopper.fit(2)
stopped = [getattr(stopper, "cancelled", False), stopper.n_iter_done, len(stopper.valid_losses)]


class BatchNorm(nn.Module):
    def __init__(self, nf, mom=0.1, eps=1e-5):
        super().__init__()
        self.mom, self.eps = mom, eps
        self.mults = nn.Parameter(torch.ones(nf, 1, 1))
        self.adds = nn.Parameter(torch.zeros(nf, 1, 1))
        self.register_buffer("vars", torch.ones(1, nf, 1, 1))
        self.register_buffer("means", torch.zeros(1, nf, 1, 1))

    def update_stats(self, x):
        m = x.mean((0, 2, 3), keepdim=True)
        v = x.var((0, 2, 3), keepdim=True)
        self.means.lerp_(m, self.mom)
        self.vars.lerp_(v, self.mom)
        return m, v

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                m, v = self.update_stats(x)
        else:
            m, v = self.means, self.vars
        x = (x - m) / (v + self.eps).sqrt()
        return x * self.mults + self.adds


def conv_bn(ni, nf, ks=3, stride=2, **kwargs):
    layers = [
        nn.Conv2d(ni, nf, ks, padding=ks // 2, stride=stride, bias=False),
        GeneralRelu(**kwargs),
    ]
    return nn.Sequential(*layers, BatchNorm(nf))


bn_model = nn.Sequential(
    conv_bn(1, 8, 5, **gr),
    conv_bn(8, 16, **gr),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(16, 3),
)
bn_recorder = Recorder()
bn_run = Runner(
    bn_model,
    torch.optim.SGD(bn_model.parameters(), lr=0.2),
    F.cross_entropy,
    train_dl,
    valid_dl,
    [bn_recorder],
)
bn_run.fit(3)
bn_buffers = [name for name, _ in bn_model.named_buffers()]
bn_means = bn_model[1][2].means.flatten().tolist()
bn_vars = bn_model[1][2].vars.flatten().tolist()
