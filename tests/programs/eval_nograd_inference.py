"""Train/eval and gradient-mode semantics from forum threads: ``model.eval()`` switching
``Dropout`` off and ``BatchNorm`` to running statistics (a model evaluated without it gives
batch-dependent outputs), running statistics updated by a forward pass under ``torch.no_grad()``
in train mode (no_grad does not mean eval), ``BatchNorm1d`` on one sample in training ("Expected
more than 1 value per channel when training"), ``momentum=None`` cumulative averages,
``track_running_stats=False``; tensors made under ``no_grad`` (plain tensors, usable later)
against ``inference_mode`` tensors (``is_inference``, refused by autograd and by in-place
updates outside the mode, with PyTorch's messages), ``requires_grad`` of outputs under each mode,
``torch.set_grad_enabled(False)`` as a context and ``@torch.no_grad()`` as a decorator, and
``model.train(False)``/``training`` flags of children."""

import torch
from torch import nn

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


model = nn.Sequential(
    nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2)
)
x = torch.randn(16, 4)
y = torch.randint(0, 2, (16,))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
losses = []
for _ in range(5):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
bn = model[1]
running_after_train = [
    bn.running_mean.tolist(),
    bn.running_var.tolist(),
    bn.num_batches_tracked.item(),
]

# Evaluating in train mode: dropout is random and batch statistics depend on the batch.
probe = torch.randn(4, 4)
with torch.no_grad():
    train_a = model(probe)
    train_b = model(probe)
    alone_train = model(probe[:2])
nograd_updates = [bn.num_batches_tracked.item(), bn.running_mean.tolist()]
model.eval()
with torch.no_grad():
    eval_a = model(probe)
    eval_b = model(probe)
    alone_eval = model(probe[:2])
eval_facts = [
    torch.equal(train_a, train_b),
    torch.equal(eval_a, eval_b),
    torch.allclose(alone_eval, eval_a[:2]),
    torch.allclose(alone_train, train_a[:2]),
    bn.num_batches_tracked.item(),
    [m.training for m in model],
]
eval_out = eval_a.tolist()
model.train(False)
flags = [model.training, model[3].training]
model.train()
flags.append(model[3].training)

# BatchNorm on one sample.
single_error = error_of(lambda: nn.BatchNorm1d(3)(torch.randn(1, 3)))
single_ok = nn.BatchNorm1d(3).eval()(torch.randn(1, 3)).shape[0]
single_2d = error_of(lambda: nn.BatchNorm2d(3)(torch.randn(1, 3, 1, 1)))
cumulative = nn.BatchNorm1d(2, momentum=None)
for batch in (torch.tensor([[1.0, 2.0], [3.0, 6.0]]), torch.tensor([[5.0, 0.0], [7.0, 2.0]])):
    cumulative(batch)
untracked = nn.BatchNorm1d(2, track_running_stats=False)
bn_variants = [
    cumulative.running_mean.tolist(),
    cumulative.running_var.tolist(),
    untracked.running_mean is None,
    untracked.eval()(torch.tensor([[1.0, 2.0], [3.0, 6.0]])).tolist(),
]
dropout_eval = nn.Dropout(0.9).eval()(torch.ones(5)).tolist()
dropout_scale = sorted(set(nn.Dropout(0.5)(torch.ones(200)).tolist()))

# no_grad vs inference_mode tensors.
w = torch.randn(3, requires_grad=True)
with torch.no_grad():
    ng = w * 2
with torch.inference_mode():
    inf = w * 2
    inside = [inf.requires_grad, inf.is_inference(), torch.is_inference_mode_enabled()]
modes = [
    ng.requires_grad,
    ng.is_inference(),
    inf.is_inference(),
    torch.is_inference_mode_enabled(),
    (ng * w).requires_grad,
]
(ng * w).sum().backward()
ng_grad = w.grad.tolist()
inference_errors = [
    error_of(lambda: (inf * w).sum().backward()),
    error_of(lambda: inf.add_(1)),
    error_of(lambda: inf.requires_grad_()),
]
cloned = inf.clone()
cloned_ok = [cloned.is_inference(), (cloned * w).requires_grad]
with torch.inference_mode():
    inf.add_(1)  # allowed inside the mode
inf_after = inf.tolist()
with torch.inference_mode(False):
    normal = w * 2
normal_facts = [normal.requires_grad, normal.is_inference()]


@torch.no_grad()
def predict(inputs):
    return model(inputs)


model.eval()
decorated = [predict(probe).requires_grad, torch.is_grad_enabled()]
with torch.set_grad_enabled(False):
    off = (w * 3).requires_grad
torch.set_grad_enabled(True)
with torch.enable_grad():
    on = (w * 3).requires_grad
grad_modes = [off, on, torch.is_grad_enabled()]
