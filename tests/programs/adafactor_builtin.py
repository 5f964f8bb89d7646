"""PyTorch's own ``torch.optim.Adafactor`` used as T5 fine-tuning recipes use it, on a small
conv + MLP classifier: the defaults (``lr=1e-2`` relative-step cap, ``beta2_decay=-0.8``,
``eps=(None, 1e-3)``, ``d=1.0``), factored ``row_var``/``col_var`` state for the conv kernel and
the matrices and a full ``variance`` for the biases and a 0-d logit scale, decoupled weight decay and ``maximize`` in
a second param group, a ``LambdaLR`` warm-up on top, ``state_dict()`` saved with ``torch.save``
mid-run and loaded into a fresh model/optimizer pair that then continues the run exactly."""

import copy
import io

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc1 = nn.Linear(4 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 3)
        self.logit_scale = nn.Parameter(torch.tensor(1.0))  # 0-d: Adafactor's "variance" state

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc2(F.gelu(self.fc1(torch.flatten(x, 1)))) * self.logit_scale


X = torch.randn(48, 1, 8, 8)
y = (X[:, 0, :4].mean((1, 2)) > 0).long() + (X[:, 0, 4:].mean((1, 2)) > 0.2).long()


def make():
    torch.manual_seed(1)
    model = Net()
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    no_decay = [p for n, p in model.named_parameters() if not n.endswith("weight")]
    opt = torch.optim.Adafactor(
        [{"params": decay, "weight_decay": 1e-3}, {"params": no_decay, "lr": 5e-3}]
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 5))
    return model, opt, sched


def train(model, opt, sched, steps, start=0):
    losses = []
    for step in range(start, start + steps):
        idx = torch.arange(step * 16, step * 16 + 16) % 48
        opt.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


model, opt, sched = make()
defaults = {k: v for k, v in opt.defaults.items() if k != "foreach"}
defaults["eps"] = list(defaults["eps"])
losses = train(model, opt, sched, 12)
state_layout = {
    name: sorted((k, tuple(v.shape)) for k, v in opt.state[p].items())
    for name, p in model.named_parameters()
}
step_dtype = str(opt.state[model.fc1.weight]["step"].dtype)

buffer = io.BytesIO()
torch.save(
    {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buffer
)
reference = copy.deepcopy(model)
ref_opt = torch.optim.Adafactor(
    [
        {"params": [p for n, p in reference.named_parameters() if n.endswith("weight")]},
        {"params": [p for n, p in reference.named_parameters() if not n.endswith("weight")]},
    ]
)
ref_opt.load_state_dict(opt.state_dict())
cont = train(model, opt, sched, 12, start=12)

buffer.seek(0)
ckpt = torch.load(buffer)
model2, opt2, sched2 = make()
model2.load_state_dict(ckpt["model"])
opt2.load_state_dict(ckpt["opt"])
sched2.load_state_dict(ckpt["sched"])
resumed = train(model2, opt2, sched2, 12, start=12)
group_hparams = [(g["lr"], g["weight_decay"], g["beta2_decay"], g["d"]) for g in opt2.param_groups]
resumed_equal = all(torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters()))
with torch.no_grad():
    accuracy = (model(X).argmax(1) == y).float().mean().item()

# maximize=True on the negated objective walks the same path
torch.manual_seed(2)
w = torch.randn(5, 4, requires_grad=True)
v = w.detach().clone().requires_grad_()
target = torch.randn(5, 4)
o_min = torch.optim.Adafactor([w], lr=0.05)
o_max = torch.optim.Adafactor([v], lr=0.05, maximize=True)
for _ in range(5):
    for p, opt_, sign in ((w, o_min, 1.0), (v, o_max, -1.0)):
        opt_.zero_grad()
        (sign * (p - target).pow(2).sum()).backward()
        opt_.step()
maximize_gap = (w - v).abs().max().item()
quad_loss = (w - target).pow(2).sum().item()
