"""The FX "conv/batch-norm fusion" tutorial: ``symbolic_trace`` a small CNN in eval mode, find
``Conv2d -> BatchNorm2d`` node pairs by their modules, fold the batch-norm statistics into the
convolution's weight and bias, rewire the users, erase the batch-norm nodes, ``recompile``, and
check the fused model computes what the original does."""

import copy

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
from numpy_init import init_from_numpy, randn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 4, 3)
        self.bn2 = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.bn2(self.conv2(x))
        return self.head(x.mean(dim=(2, 3)))


def fuse_conv_bn_eval(conv, bn):
    fused = copy.deepcopy(conv)
    w, b = fused.weight, fused.bias if fused.bias is not None else torch.zeros_like(bn.running_mean)
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    fused.weight = nn.Parameter(w * scale.reshape(-1, 1, 1, 1))
    fused.bias = nn.Parameter((b - bn.running_mean) * scale + bn.bias)
    return fused


def _parent_name(target):
    *parent, name = target.rsplit(".", 1)
    return parent[0] if parent else "", name


def fuse(model):
    model = copy.deepcopy(model)
    traced = fx.symbolic_trace(model)
    modules = dict(traced.named_modules())
    fused_count = 0
    for node in traced.graph.nodes:
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        prev = node.args[0]
        if prev.op != "call_module" or not isinstance(modules[prev.target], nn.Conv2d):
            continue
        if len(prev.users) > 1:
            continue
        conv, bn = modules[prev.target], modules[node.target]
        parent, name = _parent_name(prev.target)
        setattr(modules[parent] if parent else traced, name, fuse_conv_bn_eval(conv, bn))
        node.replace_all_uses_with(prev)
        traced.graph.erase_node(node)
        fused_count += 1
    traced.graph.lint()
    traced.recompile()
    return traced, fused_count


rng = np.random.default_rng(5)
model = init_from_numpy(Net(), seed=5)
model.train()
with torch.no_grad():
    for _ in range(3):  # give the batch norms non-trivial running statistics
        model(randn(rng, 4, 3, 8, 8) * 2 + 1)
model.eval()
fused, fused_count = fuse(model)
x = randn(rng, 2, 3, 8, 8)
with torch.no_grad():
    expected, got = model(x), fused(x)
max_gap = (expected - got).abs().max().item()
outputs = got.flatten().tolist()
node_ops = [n.op for n in fused.graph.nodes]
targets = [str(n.target) for n in fused.graph.nodes if n.op == "call_module"]
has_bn = any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
code_mentions_bn = "bn1" in fused.code
