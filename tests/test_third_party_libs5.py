"""Third-party libraries of the twentieth session, run with ``torch`` bound to minigrad (as
under ``python -m minigrad.as_torch``) and with PyTorch, compared (the helpers of
``test_third_party_libs``); each skips where its library is not installed. torchview records a
model's calls with a ``__torch_function__`` tensor subclass and module hooks (it imports
``torch._C.ScriptMethod`` and calls ``Parameter.__torch_function__`` on the class); torchquad
dispatches through autoray, which names a backend by the tensor class's module."""

import importlib
import math
import re
import warnings

from test_programs5 import close
from test_third_party_libs import _both

import minigrad


def _torchview(torch):
    """torchview's graph of a nested model (conv, batch norm, a functional relu, cat, pooling,
    softmax, a broadcast add), collapsed and expanded: the Graphviz source, whose node labels
    hold each call's name, depth and shapes, and whose edges are the data flow."""
    torchview = importlib.import_module("torchview")
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)

        def forward(self, x):
            y = torch.relu(self.bn(self.conv(x)))
            return torch.cat([y, y * 2], dim=1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block, self.pool, self.fc = Block(), nn.AdaptiveAvgPool2d(1), nn.Linear(8, 3)

        def forward(self, x):
            y = self.pool(self.block(x)).flatten(1)
            return self.fc(y).softmax(-1) + y.mean()

    sources = []
    for options in ({}, {"expand_nested": True, "depth": 3, "hide_inner_tensors": False}):
        graph = torchview.draw_graph(Net(), input_size=(2, 3, 5, 5), **options)
        sources.append(graph.visual_graph.source)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0)
    sources.append(torchview.draw_graph(layer, input_size=(1, 3, 8), depth=2).visual_graph.source)
    return sources


def test_torchview_draws_the_graph_pytorch_draws():
    ours, theirs = _both(_torchview, "torchview", "graphviz")
    edges = re.findall(r"\t(\d+) -> (\d+)", ours[0])
    assert len(edges) >= 5 and "Conv2d" in ours[1] and "cat" in ours[1]
    assert theirs is None or ours == theirs


def _torchquad(torch):
    """torchquad's Simpson, Trapezoid, Boole, Monte Carlo and VEGAS in float64 on a 2-D
    integrand, and the gradient of a Simpson integral with respect to its domain."""
    tq = importlib.import_module("torchquad")
    dtype = torch.get_default_dtype()  # (torchquad's set_up_backend sets it: put back after)
    try:
        return _integrals(torch, tq)
    finally:
        torch.set_default_dtype(dtype)


def _integrals(torch, tq):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (no GPU; Simpson's odd-N notice)
        tq.set_up_backend("torch", data_type="float64")

        def f(x):
            return torch.sin(x[:, 0]) * torch.exp(x[:, 1])

        domain = [[0.0, 1.0], [0.0, 2.0]]
        results = [
            float(rule.integrate(f, dim=2, N=n, integration_domain=domain))
            for rule, n in ((tq.Simpson(), 101), (tq.Trapezoid(), 101), (tq.Boole(), 81))
        ]
        results.append(float(tq.MonteCarlo().integrate(f, 2, 500, domain, seed=1)))
        results.append(float(tq.VEGAS().integrate(f, 2, 1000, domain, seed=1)))
        grad_domain = torch.tensor(domain, dtype=torch.float64, requires_grad=True)
        tq.Simpson().integrate(f, dim=2, N=31, integration_domain=grad_domain).backward()
    return results, grad_domain.grad.tolist()


def test_torchquad_integrates_as_with_pytorch():
    ours, theirs = _both(_torchquad, "torchquad", "autoray", "loguru")
    exact = (1 - math.cos(1.0)) * (math.exp(2.0) - 1)
    assert abs(ours[0][0] - exact) < 1e-3  # (N=101 points: 9 per dim)
    assert theirs is None or close(ours, theirs, rtol=1e-10, atol=1e-12)


def _torchview_recurrent(torch):
    """torchview on an embedding + LSTM model (rolled, and called with keyword inputs) and on
    a module used twice (rolled, and expanded with its inner tensors and functions): the LSTM
    is one ``lstm`` call that the recording subclass sees, indexing is ``__getitem__``. (With
    ``hide_module_functions=False`` the ``lstm`` node's input label lacks PyTorch's hidden-state
    shapes, ``2 x (1, 2, 6)``: not compared.)"""
    torchview = importlib.import_module("torchview")
    nn = torch.nn

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.lstm = nn.Embedding(10, 4), nn.LSTM(4, 6, batch_first=True)
            self.head = nn.Linear(6, 2)

        def forward(self, idx, mask=None):
            out, _ = self.lstm(self.emb(idx))
            y = self.head(out[:, -1])
            return y if mask is None else y * mask

    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(self.lin(x)).view(-1).sum()

    torch.manual_seed(0)
    idx = torch.randint(0, 10, (2, 5))
    cases = [
        (Recurrent(), {"input_data": [idx], "roll": True}),
        (Recurrent(), {"input_data": {"idx": idx, "mask": torch.ones(2, 2)}}),
        (Shared(), {"input_size": (2, 3), "roll": True, "show_shapes": False}),
        (Shared(), {"input_size": (2, 3), "hide_inner_tensors": False,
                    "hide_module_functions": False, "expand_nested": True}),
    ]  # fmt: skip
    return [torchview.draw_graph(m, **kw).visual_graph.source for m, kw in cases]


def test_torchview_recurrent_and_shared_modules_as_pytorch():
    ours, theirs = _both(_torchview_recurrent, "torchview", "graphviz")
    assert "LSTM" in ours[0] and "__getitem__" in ours[1]
    assert theirs is None or ours == theirs


def test_recurrent_layer_hands_a_subclass_one_call(as_torch):
    """A ``__torch_function__`` subclass sees an LSTM/GRU as one ``lstm``/``gru`` call (as
    PyTorch's ``_VF`` call), batched or not, and gets the plain layer's numbers back."""
    seen = []

    class Recording(minigrad.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    for layer, x in ((minigrad.nn.LSTM(3, 4), minigrad.randn(5, 2, 3)),
                     (minigrad.nn.GRU(3, 4, batch_first=True), minigrad.randn(5, 3))):  # fmt: skip
        seen.clear()
        out, state = layer(x.as_subclass(Recording))
        assert type(layer).__name__.lower() in seen  # (unbatched: unsqueeze, gru, squeeze)
        assert seen.count("__getitem__") == 0 and len(seen) in (1, 4)
        plain_out, plain_state = layer(x)
        assert type(out) is Recording
        assert minigrad.equal(out.as_subclass(minigrad.Tensor), plain_out)
        first = state[0] if isinstance(state, tuple) else state
        plain_first = plain_state[0] if isinstance(plain_state, tuple) else plain_state
        assert first.shape == plain_first.shape


def test_attention_hands_a_subclass_one_call(as_torch):
    """A ``__torch_function__`` subclass sees ``nn.MultiheadAttention`` as PyTorch's calls:
    batch-first inputs transposed (once for self-attention), one
    ``multi_head_attention_forward``, the output transposed back; the numbers are the plain
    layer's (separate key/value sizes too)."""
    seen = []

    class Recording(minigrad.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    mha = minigrad.nn.MultiheadAttention(8, 2, batch_first=True)
    x = minigrad.randn(2, 3, 8)
    out, weights = mha(*(x.as_subclass(Recording),) * 3)
    assert [n for n in seen if n != "dim"] == [
        "transpose",
        "multi_head_attention_forward",
        "transpose",
    ]  # (dim: the batched check, as PyTorch's)
    plain_out, plain_weights = mha(x, x, x)
    assert minigrad.allclose(out.as_subclass(minigrad.Tensor), plain_out, atol=1e-6)
    assert minigrad.allclose(weights.as_subclass(minigrad.Tensor), plain_weights, atol=1e-6)
    cross = minigrad.nn.MultiheadAttention(8, 2, kdim=5, vdim=4)
    q, k, v = minigrad.randn(3, 2, 8), minigrad.randn(4, 2, 5), minigrad.randn(4, 2, 4)
    out, _ = cross(q.as_subclass(Recording), k, v)
    assert minigrad.allclose(out.as_subclass(minigrad.Tensor), cross(q, k, v)[0], atol=1e-6)
