"""``SummaryWriter.add_graph`` compared with PyTorch's for the same models: node names (JIT
debug names and module scopes), ``aten::`` op names, inputs, parameter reads and output
shapes, read back from the event files with TensorBoard's own reader."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import minigrad

pytest.importorskip("tensorboard")
torch = pytest.importorskip("torch")

from minigrad.utils.tensorboard._graph import model_graph  # noqa: E402
from minigrad.utils.tensorboard._summary import graph_def  # noqa: E402


def _models(T):
    """Models written once against a torch-like module ``T`` (minigrad or torch)."""
    nn, F = T.nn, T.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.fc = nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Linear(8, 3)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
            return self.fc(T.flatten(x, 1))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 4), nn.Tanh())

        def forward(self, x):
            return self.body(x) + x

    class Nested(nn.Module):
        def __init__(self):
            super().__init__()
            self.block, self.head = Block(), nn.Linear(4, 1)

        def forward(self, x):
            h = self.block(x)
            return T.sigmoid(self.head(h * 2))

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(8, 24), nn.Linear(8, 8)

        def forward(self, x, mask):
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            s = q @ k.transpose(-2, -1) / 4.0
            s = s.masked_fill(mask.unsqueeze(1) == 0, float("-inf"))
            return self.proj(T.softmax(s, dim=-1) @ v)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.up = nn.Upsample(scale_factor=2)
            self.out = nn.Conv2d(6, 1, 1)

        def forward(self, x):
            return self.out(T.cat([self.up(self.down(x)), x], dim=1))

    class NormMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.norm, self.fc2 = nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            return self.fc2(self.drop(F.gelu(self.norm(self.fc1(x)))))

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 4, num_layers=2, batch_first=True)
            self.lstm = nn.LSTM(4, 2, bidirectional=True)

        def forward(self, x, h0, c0):
            out, h = self.gru(x, h0)
            y, _ = self.lstm(out.transpose(0, 1), (c0, c0))
            return y

    class TwoOutputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            y = self.fc(x)
            return y, F.log_softmax(y, dim=1)

    return {
        "mlp": (Net, [(2, 4)]),
        "cnn_functional": (CNN, [(1, 1, 6, 6)]),
        "nested_submodules": (Nested, [(3, 4)]),
        "attention_chunk": (Attention, [(2, 4, 8), "mask"]),
        "unet_upsample": (UNet, [(1, 2, 4, 4)]),
        "two_outputs": (TwoOutputs, [(2, 3)]),
        "layernorm_gelu_dropout": (NormMLP, [(2, 4)]),
        "gru_lstm_with_states": (Recurrent, [(2, 5, 3), (2, 2, 4), (2, 2, 2)]),
    }


def _arrays(spec):
    rng = np.random.default_rng(0)
    out = []
    for s in spec:
        if s == "mask":
            mask = (rng.random((2, 4, 4)) > 0.3).astype(np.int64)
            mask[..., 0] = 1
            out.append(mask)
        else:
            out.append(rng.standard_normal(s).astype(np.float32))
    return out


def _pair(name):
    """minigrad's and PyTorch's instance of model ``name`` (same weights) and inputs."""
    make, spec = _models(minigrad)[name]
    minigrad.manual_seed(0)
    ours = make().eval()
    theirs = _models(torch)[name][0]().eval()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    arrays = _arrays(spec)
    return (ours, tuple(minigrad.tensor(a) for a in arrays)), (
        theirs,
        tuple(map(torch.tensor, arrays)),
    )


_PLUMBING = ("prim::Constant", "prim::ListConstruct")  # PyTorch's op settings as graph values


def _plain(name: str) -> str:
    """A node name with the JIT's numeric value ids as ``#`` and its ``.N`` suffixes dropped
    (their numbering follows the JIT's renames while it inlines, not only the final graph)."""
    return re.sub(r"\.\d+$", "", re.sub(r"/\d+$", "/#", name))


def _layout(nodes):
    """(name, op, inputs, shape) per node, minus constants and the edges from them, and with
    the tuple PyTorch packs and unpacks around a submodule returning one (an RNN) seen
    through: an unpacked value is the packed one."""
    dropped = {n.name for n in nodes if n.op in _PLUMBING}
    packed = {n.name: list(n.input) for n in nodes if n.op == "prim::TupleConstruct"}
    unpacked, seen = {}, {}
    for n in nodes:
        if n.op == "prim::TupleUnpack":
            k = seen[n.input[0]] = seen.get(n.input[0], -1) + 1
            unpacked[n.name] = packed[n.input[0]][k]
    out = []
    for n in nodes:
        if n.op in _PLUMBING or n.name in unpacked or n.name in seen:
            continue
        shapes = [[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape]
        ins = [_plain(unpacked.get(i, i)) for i in n.input if i not in dropped]
        out.append((_plain(n.name), n.op, ins, shapes, n.attr["attr"].s))
    return out


def _torch_graph(model, args):
    from torch.utils.tensorboard._pytorch_graph import graph

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the JIT's TracerWarnings on PyTorch's RNN checks)
        return graph(model, args)[0].node


@pytest.mark.parametrize("name", sorted(_models(minigrad)))
def test_graph_layout_names_ops_inputs_and_shapes_match_pytorchs(name):
    (ours, args), (theirs, targs) = _pair(name)
    got = _layout(graph_def(model_graph(ours, args)).node)
    want = _layout(_torch_graph(theirs, targs))
    assert got == want


def test_debug_names_of_an_mlp_match_pytorchs_exactly_but_for_value_numbers():
    (ours, args), (theirs, targs) = _pair("mlp")
    got = [n.name for n in graph_def(model_graph(ours, args)).node]
    want = [n.name for n in _torch_graph(theirs, targs)]
    assert [re.sub(r"/\d+$", "/#", n) for n in got] == [re.sub(r"/\d+$", "/#", n) for n in want]
    assert "Net/Linear[fc1]/input.1" in got and "Net/Linear[fc1]/weight/weight.1" in got
    getattr_sources = {n.name: list(n.input) for n in graph_def(model_graph(ours, args)).node}
    assert getattr_sources["Net/Linear[fc2]/bias/bias"] == ["Net/Linear[fc2]/weight/fc2"]


def test_a_reassigned_input_and_functional_calls_are_named_as_the_jit_names_them():
    (ours, args), _ = _pair("cnn_functional")
    nodes = {n.name: n for n in graph_def(model_graph(ours, args)).node}
    assert "input/x.1" in nodes  # x is reassigned in forward: the input becomes x.1
    assert nodes["CNN/x"].op == "aten::max_pool2d"  # the value x holds then
    assert nodes["CNN/input"].op == "aten::flatten"  # passed to Linear.forward(input)
    bn = nodes["CNN/BatchNorm2d[bn]/input.3"]
    assert bn.op == "aten::batch_norm"  # one node, aten's argument order
    assert [i.rsplit("/", 1)[-1] for i in bn.input] == [
        "input.1", "weight.3", "bias.3", "running_mean", "running_var"
    ]  # fmt: skip


def test_add_graph_event_reads_back_as_pytorchs(tmp_path):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.compat.proto import graph_pb2
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    def written(writer_cls, model, args, run):
        with writer_cls(str(tmp_path / run)) as writer:
            writer.add_graph(model, args)
        (path,) = (tmp_path / run).iterdir()
        events = [e for e in EventFileLoader(str(path)).Load() if e.HasField("graph_def")]
        return graph_pb2.GraphDef.FromString(events[0].graph_def).node

    (ours, args), (theirs, targs) = _pair("nested_submodules")
    got = written(minigrad.utils.tensorboard.SummaryWriter, ours, args, "m")
    want = written(TorchWriter, theirs, targs, "t")
    assert _layout(got) == _layout(want)
    # the scalar 2 PyTorch writes as a constant tensor; minigrad leaves Python numbers out
    assert sum(n.op == "prim::Constant" for n in got) == 0


def test_indexing_is_select_slice_or_index_and_dropout_a_node_in_eval_mode():
    class Pick(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = minigrad.nn.Dropout(0.5)

        def forward(self, x):
            return x[:, 0] + x[:, 1:3].sum(1) + self.drop(x[minigrad.tensor([1, 0])]).sum(1)

    nodes = model_graph(Pick().eval(), minigrad.randn(2, 4))
    ops = [op for _, op, *_ in nodes if op.startswith("aten::")]
    assert ops == ["aten::select", "aten::slice", "aten::sum", "aten::add", "aten::index",
                   "aten::dropout", "aten::sum", "aten::add"]  # fmt: skip
    # the rows picked are first used in Dropout.forward(input): named input, as the JIT does
    dropout = next(n for n in nodes if n[1] == "aten::dropout")
    assert dropout[2] == ["Pick/input"] and dropout[3] == (2, 4)
