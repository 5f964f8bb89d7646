"""timm's optimizer-side utilities as ``train.py`` strings them together, written the way timm
writes them: ``param_groups_layer_decay`` (per-layer ``lr_scale`` from ``layer_decay ** (L - id)``
and no weight decay for 1-D parameters and ``no_weight_decay`` names), ``Lookahead`` -- an
``Optimizer`` subclass that never calls ``super().__init__`` (it makes the step-hook
dicts itself) but shares the base optimizer's
``param_groups``/``defaults``, ``group.setdefault`` of its own options, a slow buffer kept in
the base optimizer's ``state`` and ``slow.add_(fast - slow, alpha=...)`` -- adaptive gradient
clipping (``unitwise_norm`` over all but the first dim, ``torch.where`` on the ratio,
``p.grad.detach().copy_``), a scheduler writing ``value * param_group['lr_scale']``, a
checkpoint of ``optimizer.state_dict()`` resumed into a fresh Lookahead, and
``torch.optim.lr_scheduler.StepLR`` driven through the Lookahead wrapper."""

import io
from collections import OrderedDict, defaultdict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import Optimizer


def param_groups_layer_decay(model, weight_decay, no_weight_decay_list=(), layer_decay=0.75):
    num_layers = len(model.blocks) + 1
    layer_scales = [layer_decay ** (num_layers - i) for i in range(num_layers + 1)]
    param_groups = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim == 1 or name in no_weight_decay_list:
            g_decay, this_decay = "no_decay", 0.0
        else:
            g_decay, this_decay = "decay", weight_decay
        layer_id = (
            int(name.split(".")[1]) + 1
            if name.startswith("blocks.")
            else (0 if name.startswith("embed") else num_layers)
        )
        group_name = f"layer_{layer_id}_{g_decay}"
        if group_name not in param_groups:
            param_groups[group_name] = {
                "lr_scale": layer_scales[layer_id],
                "weight_decay": this_decay,
                "param_names": [],
                "params": [],
            }
        param_groups[group_name]["param_names"].append(name)
        param_groups[group_name]["params"].append(param)
    return list(param_groups.values())


class Lookahead(Optimizer):
    def __init__(self, base_optimizer, alpha=0.5, k=3):
        # NOTE super().__init__() not called on purpose
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        defaults = dict(lookahead_alpha=alpha, lookahead_k=k, lookahead_step=0)
        self._base_optimizer = base_optimizer
        self.param_groups = base_optimizer.param_groups
        self.defaults = base_optimizer.defaults
        self.defaults.update(defaults)
        self.state = defaultdict(dict)
        for name, default in defaults.items():
            for group in self._base_optimizer.param_groups:
                group.setdefault(name, default)

    @torch.no_grad()
    def update_slow(self, group):
        for fast_p in group["params"]:
            if fast_p.grad is None:
                continue
            param_state = self._base_optimizer.state[fast_p]
            if "lookahead_slow_buff" not in param_state:
                param_state["lookahead_slow_buff"] = torch.empty_like(fast_p)
                param_state["lookahead_slow_buff"].copy_(fast_p)
            slow = param_state["lookahead_slow_buff"]
            slow.add_(fast_p - slow, alpha=group["lookahead_alpha"])
            fast_p.copy_(slow)

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._base_optimizer.step(closure)
        for group in self._base_optimizer.param_groups:
            group["lookahead_step"] += 1
            if group["lookahead_step"] % group["lookahead_k"] == 0:
                self.update_slow(group)
        return loss

    def state_dict(self):
        return self._base_optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self._base_optimizer.load_state_dict(state_dict)
        self.param_groups = self._base_optimizer.param_groups


def unitwise_norm(x, norm_type=2.0):
    if x.ndim <= 1:
        return x.norm(norm_type)
    return x.norm(norm_type, dim=tuple(range(1, x.ndim)), keepdim=True)


def adaptive_clip_grad(parameters, clip_factor=0.01, eps=1e-3, norm_type=2.0):
    for p in parameters:
        if p.grad is None:
            continue
        p_data, g_data = p.detach(), p.grad.detach()
        max_norm = unitwise_norm(p_data, norm_type=norm_type).clamp_(min=eps).mul_(clip_factor)
        grad_norm = unitwise_norm(g_data, norm_type=norm_type)
        clipped_grad = g_data * (max_norm / grad_norm.clamp(min=1e-6))
        new_grads = torch.where(grad_norm < max_norm, g_data, clipped_grad)
        p.grad.detach().copy_(new_grads)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 16)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(16), nn.Linear(16, 16), nn.GELU()) for _ in range(3)
        )
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        x = self.embed(x)
        for blk in self.blocks:
            x = x + blk(x)
        return self.head(x)


def make(model):
    groups = param_groups_layer_decay(
        model, weight_decay=0.05, no_weight_decay_list=("embed.weight",)
    )
    return groups, Lookahead(torch.optim.AdamW(groups, lr=0.01))


def train(model, optimizer, steps, start):
    out = []
    for step in range(start, start + steps):
        for group in optimizer.param_groups:  # the scheduler's _update_param_groups with lr_scale
            group["lr"] = 0.01 * (0.9**step) * group["lr_scale"]
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        adaptive_clip_grad(model.parameters(), clip_factor=0.05)
        optimizer.step()
        out.append(loss.item())
    return out


torch.manual_seed(0)
x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
x[:, 0] += y.float()
model = Net()
groups, optimizer = make(model)
group_summary = [(len(g["params"]), round(g["lr_scale"], 6), g["weight_decay"]) for g in groups]
losses = train(model, optimizer, 8, 0)
buffer = io.BytesIO()
torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
losses += train(model, optimizer, 4, 8)
buffer.seek(0)
checkpoint = torch.load(buffer)
resumed = Net()
resumed.load_state_dict(checkpoint["model"])
_, resumed_optimizer = make(resumed)
resumed_optimizer.load_state_dict(checkpoint["optimizer"])
state_keys = sorted(checkpoint["optimizer"]["state"][0])
resumed_losses = train(resumed, resumed_optimizer, 4, 8)
lookahead_steps = [g["lookahead_step"] for g in resumed_optimizer.param_groups][:2]
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
sched_lrs = []
for _ in range(4):
    optimizer.step()
    scheduler.step()
    sched_lrs.append(round(optimizer.param_groups[-1]["lr"], 10))
print(
    f"losses {losses[0]:.4f} -> {losses[-1]:.4f}; resumed {resumed_losses}; groups {group_summary}"
)
