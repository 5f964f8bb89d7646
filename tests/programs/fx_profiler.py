"""FX ``Interpreter`` tools from the FX tutorials: a profiling interpreter that times each node
and records output shapes (``ShapeProp`` style), a feature extractor that returns intermediate
activations by node name, and ``GraphModule`` surgery that truncates a network at a node."""

import time

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
from numpy_init import init_from_numpy, randn


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        x = torch.flatten(x, 1)
        return torch.log_softmax(self.fc(x), dim=-1)


class ProfilingInterpreter(fx.Interpreter):
    def __init__(self, gm):
        super().__init__(gm)
        self.times, self.shapes = {}, {}

    def run_node(self, n):
        start = time.perf_counter()
        out = super().run_node(n)
        self.times[n.name] = time.perf_counter() - start
        if isinstance(out, torch.Tensor):
            self.shapes[n.name] = list(out.shape)
            n.meta["tensor_meta"] = (tuple(out.shape), out.dtype)
        return out


class FeatureExtractor(fx.Interpreter):
    def __init__(self, gm, names):
        super().__init__(gm)
        self.names, self.features = set(names), {}

    def run_node(self, n):
        out = super().run_node(n)
        if n.name in self.names:
            self.features[n.name] = out.detach()
        return out


rng = np.random.default_rng(7)
model = init_from_numpy(SmallNet(), seed=7)
gm = fx.symbolic_trace(model)
x = randn(rng, 2, 1, 8, 8)
profiler = ProfilingInterpreter(gm)
out = profiler.run(x)
shapes = profiler.shapes
timed_nodes = sorted(profiler.times)
node_names = [n.name for n in gm.graph.nodes]
extractor = FeatureExtractor(gm, ["relu", "pool"])
extractor.run(x)
relu_mean = extractor.features["relu"].mean().item()
pool_sum = extractor.features["pool"].sum().item()
log_probs = out.flatten().tolist()

# truncate: make "flatten" the output
graph = fx.Graph()
env = {}
for node in gm.graph.nodes:
    if node.op == "output":
        continue
    env[node.name] = graph.node_copy(node, lambda n: env[n.name])
    if node.name == "flatten":
        graph.output(env[node.name])
        break
trunk = fx.GraphModule(gm, graph)
features = trunk(x)
trunk_shape = list(features.shape)
trunk_matches = torch.allclose(features, torch.flatten(model.pool(torch.relu(model.conv(x))), 1))
placeholder_count = sum(n.op == "placeholder" for n in trunk.graph.nodes)
