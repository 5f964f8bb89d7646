"""FX graph-rewriting passes from the FX docs: a transform replacing every ``relu`` (the
function, the method and ``nn.ReLU`` modules) by ``gelu`` with ``graph.inserting_after`` and
``replace_all_uses_with``; an ``fx.Transformer`` that swaps ``add`` for ``mul``; and
``subgraph_rewriter.replace_pattern`` turning ``x + x`` patterns into ``2 * x``."""

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 6), nn.Linear(6, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = self.act(h + x)
        h = torch.relu(h).relu()
        return self.fc2(h + h)


def relu_to_gelu(gm):
    graph = gm.graph
    modules = dict(gm.named_modules())
    for node in list(graph.nodes):
        is_relu = (
            (node.op == "call_function" and node.target in (F.relu, torch.relu))
            or (node.op == "call_method" and node.target == "relu")
            or (node.op == "call_module" and isinstance(modules[node.target], nn.ReLU))
        )
        if not is_relu:
            continue
        with graph.inserting_after(node):
            new = graph.call_function(F.gelu, (node.args[0],))
        node.replace_all_uses_with(new)
        graph.erase_node(node)
    graph.eliminate_dead_code()
    gm.recompile()
    return gm


class AddToMul(fx.Transformer):
    def call_function(self, target, args, kwargs):
        if target is torch.add or getattr(target, "__name__", "") == "add":
            return super().call_function(torch.mul, args, kwargs)
        return super().call_function(target, args, kwargs)


rng = np.random.default_rng(6)
model = init_from_numpy(Block(), seed=6)
x = randn(rng, 3, 6)
traced = fx.symbolic_trace(model)
reference = model(x)
reference_values = reference.flatten().tolist()
original_targets = [
    getattr(n.target, "__name__", n.target) for n in traced.graph.nodes if n.op != "placeholder"
]
gelu_model = relu_to_gelu(fx.symbolic_trace(model))
gelu_values = gelu_model(x).flatten().tolist()
h = F.gelu(model.fc1(x))
h = F.gelu(F.gelu(F.gelu(h + x)))
manual = model.fc2(h + h).flatten().tolist()
gelu_count = sum(n.target is F.gelu for n in gelu_model.graph.nodes)
multiplied = AddToMul(fx.symbolic_trace(model)).transform()
mul_values = multiplied(x).flatten().tolist()
h = F.relu(model.fc1(x))
h = torch.relu(torch.relu(model.act(h * x)))
manual_mul = model.fc2(h * h).flatten().tolist()


def pattern(a):
    return a + a


def replacement(a):
    return torch.mul(a, 2)


rewritten = fx.symbolic_trace(model)
matches = fx.replace_pattern(rewritten, pattern, replacement)
match_count = len(matches)
rewritten_gap = (rewritten(x) - reference).abs().max().item()
rewritten_code_has_mul = "torch.mul" in rewritten.code or "mul" in rewritten.code
