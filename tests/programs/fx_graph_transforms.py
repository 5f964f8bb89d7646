"""The ``torch.fx`` documentation's graph transformations: decomposing ``F.relu`` into
``(x > 0) * x`` by retracing with ``Proxy`` objects over a ``GraphAppendingTracer``, inverting
a chain of invertible functions by walking the graph backwards, a custom ``Tracer`` keeping a
block as a leaf with a ``torch.fx.wrap``-ped function and ``concrete_args``, inserting nodes
with ``inserting_after`` and ``replace_all_uses_with``, ``ShapeProp``'s shape metadata and
``split_module`` cutting a model into submodules."""

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from torch.fx.passes.shape_prop import ShapeProp
from torch.fx.passes.split_module import split_module


def relu_decomposition(x):
    return (x > 0) * x


decomposition_rules = {F.relu: relu_decomposition}


def decompose(model, tracer_class=fx.Tracer):
    graph = tracer_class().trace(model)
    new_graph = fx.Graph()
    env = {}
    tracer = torch.fx.proxy.GraphAppendingTracer(new_graph)
    for node in graph.nodes:
        if node.op == "call_function" and node.target in decomposition_rules:
            proxy_args = [
                fx.Proxy(env[x.name], tracer) if isinstance(x, fx.Node) else x for x in node.args
            ]
            output_proxy = decomposition_rules[node.target](*proxy_args)
            env[node.name] = output_proxy.node
        else:
            env[node.name] = new_graph.node_copy(node, lambda x: env[x.name])
    return fx.GraphModule(model, new_graph)


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return F.relu(self.lin(x)) + 1


torch.manual_seed(0)
m = M()
x = torch.randn(3, 4)
decomposed = decompose(m)
decomposed_ops = [getattr(n.target, "__name__", n.target) for n in decomposed.graph.nodes]
decompose_gap = (decomposed(x) - m(x)).abs().max().item()

invert_mapping = {}
for a, b in [(torch.sin, torch.arcsin), (torch.cos, torch.arccos), (torch.exp, torch.log)]:
    invert_mapping[a], invert_mapping[b] = b, a


def invert(model):
    fx_model = fx.symbolic_trace(model)
    new_graph = fx.Graph()
    env = {}
    for node in reversed(fx_model.graph.nodes):
        if node.op == "call_function":
            new_node = new_graph.call_function(invert_mapping[node.target], (env[node.name],))
            env[node.args[0].name] = new_node
        elif node.op == "output":
            new_node = new_graph.placeholder(node.name)
            env[node.args[0].name] = new_node
        elif node.op == "placeholder":
            new_graph.output(env[node.name])
        else:
            raise RuntimeError("Not implemented")
    new_graph.lint()
    return fx.GraphModule(fx_model, new_graph)


def chain(x):
    return torch.exp(torch.sin(x))


inverse = invert(chain)
t = torch.rand(5) * 0.5
invert_gap = (inverse(chain(t)) - t).abs().max().item()
inverse_ops = [n.op for n in inverse.graph.nodes]


@fx.wrap
def clamp_rows(x, limit):
    return x.clamp(-limit, limit) if limit is not None else x


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2)

    def forward(self, x, limit=None, use_head=True):
        x = clamp_rows(self.block(x), limit)
        return self.head(x) if use_head else x


class LeafBlocks(fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, Block) or super().is_leaf_module(m, qualname)


net = Net()
graph = LeafBlocks().trace(net, concrete_args={"use_head": True})
leafy = fx.GraphModule(net, graph)
leaf_ops = [
    (n.op, getattr(n.target, "__name__", n.target))
    for n in leafy.graph.nodes
    if n.op.startswith("call")
]
leaf_gap = (leafy(x, 0.5) - net(x, 0.5)).abs().max().item()

# insert a scaling after every call to the head, then rewire the users
traced = fx.symbolic_trace(net, concrete_args={"use_head": True})
for node in list(traced.graph.nodes):
    if node.op == "call_module" and node.target == "head":
        with traced.graph.inserting_after(node):
            scaled = traced.graph.call_function(torch.mul, (node, 0.5))
        node.replace_all_uses_with(scaled)
        scaled.args = (node, 0.5)
traced.graph.lint()
traced.recompile()
insert_gap = (traced(x) - 0.5 * net(x)).abs().max().item()

ShapeProp(traced).propagate(x)
shapes = {
    n.name: list(n.meta["tensor_meta"].shape) for n in traced.graph.nodes if "tensor_meta" in n.meta
}
metas = [n.meta["tensor_meta"] for n in traced.graph.nodes if "tensor_meta" in n.meta]
dtypes = sorted({str(meta.dtype).split(".")[-1] for meta in metas})


class Pipeline(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(4, 6), nn.Linear(6, 6), nn.Linear(6, 2)

    def forward(self, x):
        return self.c(torch.relu(self.b(torch.relu(self.a(x)))))


pipe = Pipeline()
traced_pipe = fx.symbolic_trace(pipe)
stage = {"a": 0, "b": 1, "c": 1}


def partition(node):
    name = node.target if node.op == "call_module" else node.args[0].target
    return stage.get(name, 0)


split = split_module(traced_pipe, pipe, partition)
split_children = [name for name, _ in split.named_children()]
split_gap = (split(x) - pipe(x)).abs().max().item()
