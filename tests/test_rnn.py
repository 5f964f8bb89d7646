"""Recurrent layers and packed sequences against ``torch.nn`` with copied weights: outputs,
final states, and gradients of inputs, initial states and every parameter."""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.autograd.graph import op_class
from minigrad.nn.utils import rnn as rnn_utils

CONFIGS = [
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=3, num_layers=2, batch_first=True)),
    ("LSTM", dict(bias=False, bidirectional=True, proj_size=2)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=2, batch_first=True, bidirectional=True)),
    ("RNN", dict(nonlinearity="tanh", num_layers=3)),
    ("RNN", dict(nonlinearity="relu", bias=False, bidirectional=True)),
]
IDS = [f"{name}-{kw}" for name, kw in CONFIGS]


def _pair(torch, name, kwargs, device="cpu"):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(4, 5, **kwargs).double()
    ours = getattr(nn, name)(4, 5, **kwargs)
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return ours.double().to(device), theirs


def _numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy()


def _flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def _compare(ours_out, theirs_out, ours_leaves, theirs_leaves):
    """Outputs equal, and gradients of a random weighting of all outputs."""
    outs_m, outs_t = [ours_out[0], *_flat(ours_out[1])], [theirs_out[0], *_flat(theirs_out[1])]
    rng = np.random.default_rng(0)
    total_m = total_t = 0
    for a, b in zip(outs_m, outs_t):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=1e-10, atol=1e-12)
        w = rng.uniform(-1, 1, tuple(b.shape))
        total_m = total_m + (a * minigrad.tensor(w, device=a.device)).sum()
        total_t = total_t + (b * b.new_tensor(w)).sum()
    total_m.backward()
    total_t.backward()
    for a, b in zip(ours_leaves, theirs_leaves):
        np.testing.assert_allclose(_numpy(a.grad), _numpy(b.grad), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_layer_matches_torch(name, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch, name, kwargs, device)
    shape = (3, 6, 4) if kwargs.get("batch_first") else (6, 3, 4)
    x = np.random.default_rng(1).standard_normal(shape)
    xm = minigrad.tensor(x, requires_grad=True, device=device)
    xt = torch.tensor(x, requires_grad=True)
    layers = ours.num_layers * (2 if ours.bidirectional else 1)
    out_size = ours.proj_size or ours.hidden_size
    h0 = np.random.default_rng(2).standard_normal((layers, 3, out_size))
    hm, ht = (
        minigrad.tensor(h0, requires_grad=True, device=device),
        torch.tensor(h0, requires_grad=True),
    )
    if name == "LSTM":
        c0 = np.random.default_rng(3).standard_normal((layers, 3, 5))
        cm, ct = (
            minigrad.tensor(c0, requires_grad=True, device=device),
            torch.tensor(c0, requires_grad=True),
        )
        got, want = ours(xm, (hm, cm)), theirs(xt, (ht, ct))
        extra_m, extra_t = [hm, cm], [ht, ct]
    else:
        got, want = ours(xm, hm), theirs(xt, ht)
        extra_m, extra_t = [hm], [ht]
    _compare(got, want, [xm, *extra_m, *ours.parameters()], [xt, *extra_t, *theirs.parameters()])


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_packed_sequences_match_torch(name):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as torch_rnn

    ours, theirs = _pair(torch, name, dict(num_layers=2, bidirectional=True, batch_first=True))
    lengths = [3, 6, 1, 4]  # unsorted: packing sorts and remembers the order
    x = np.random.default_rng(4).standard_normal((4, 6, 4))
    xm, xt = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    pm = rnn_utils.pack_padded_sequence(xm, lengths, batch_first=True, enforce_sorted=False)
    pt = torch_rnn.pack_padded_sequence(xt, lengths, batch_first=True, enforce_sorted=False)
    assert pm.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert pm.sorted_indices.tolist() == pt.sorted_indices.tolist()
    out_m, state_m = ours(pm)
    out_t, state_t = theirs(pt)
    padded_m, len_m = rnn_utils.pad_packed_sequence(out_m, batch_first=True, total_length=7)
    padded_t, len_t = torch_rnn.pad_packed_sequence(out_t, batch_first=True, total_length=7)
    assert len_m.tolist() == len_t.tolist() == lengths
    _compare(
        (padded_m, state_m),
        (padded_t, state_t),
        [xm, *ours.parameters()],
        [xt, *theirs.parameters()],
    )


def test_pad_and_pack_sequence_match_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as torch_rnn

    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((n, 2)) for n in (4, 2, 3)]
    for kwargs in (dict(), dict(batch_first=True, padding_value=-1.0), dict(padding_side="left")):
        got = rnn_utils.pad_sequence([minigrad.tensor(a) for a in arrays], **kwargs)
        want = torch_rnn.pad_sequence([torch.tensor(a) for a in arrays], **kwargs)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    packed_m = rnn_utils.pack_sequence([minigrad.tensor(a) for a in arrays], enforce_sorted=False)
    packed_t = torch_rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    np.testing.assert_array_equal(packed_m.data.numpy(), packed_t.data.numpy())
    assert packed_m.unsorted_indices.tolist() == packed_t.unsorted_indices.tolist()


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_and_unpack_sequence_match_torch(batch_first):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as torch_rnn

    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 3)]
    lengths = [2, 4, 3]
    for lib, utils, lens in (
        (minigrad, rnn_utils, minigrad.tensor(lengths)),
        (torch, torch_rnn, torch.tensor(lengths)),
    ):
        tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
        padded = utils.pad_sequence(tensors, batch_first=batch_first)
        pieces = utils.unpad_sequence(padded, lens, batch_first=batch_first)
        assert [tuple(p.shape) for p in pieces] == [(2, 2), (4, 2), (3, 2)]
        for piece, a in zip(pieces, arrays):
            np.testing.assert_array_equal(piece.detach().numpy(), a)
        unpacked = utils.unpack_sequence(utils.pack_sequence(tensors, enforce_sorted=False))
        for piece, a in zip(unpacked, arrays):
            np.testing.assert_array_equal(piece.detach().numpy(), a)
        sum((p * (i + 1)).sum() for i, p in enumerate(unpacked)).backward()
        assert [t.grad[0, 0].item() for t in tensors] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_match_torch(name, device):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(4, 5).double()
    ours = getattr(nn, name)(4, 5)
    ours.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    ours = ours.double().to(device)
    x = np.random.default_rng(6).standard_normal((3, 4))
    xm, xt = (
        minigrad.tensor(x, requires_grad=True, device=device),
        torch.tensor(x, requires_grad=True),
    )
    got, want = ours(xm), theirs(xt)
    got = got if isinstance(got, tuple) else (got, ())
    want = want if isinstance(want, tuple) else (want, ())
    _compare(got, want, [xm, *ours.parameters()], [xt, *theirs.parameters()])
    unbatched = ours(xm[0].detach())  # (H_in,) in, (H,) out
    assert (unbatched[0] if isinstance(unbatched, tuple) else unbatched).shape == (5,)


def test_unbatched_input_and_default_state():
    lstm = nn.LSTM(4, 5, num_layers=2)
    x = minigrad.randn(6, 4)
    out, (h, c) = lstm(x)
    assert out.shape == (6, 5) and h.shape == (2, 5) and c.shape == (2, 5)
    batched, _ = lstm(x.unsqueeze(1))
    np.testing.assert_allclose(out.detach().numpy(), batched.squeeze(1).detach().numpy(), atol=1e-6)


def test_parameter_names_shapes_and_repr_match_torch():
    torch = pytest.importorskip("torch")
    kwargs = dict(num_layers=2, bidirectional=True, proj_size=3, batch_first=True, dropout=0.5)
    ours, theirs = nn.LSTM(4, 5, **kwargs), torch.nn.LSTM(4, 5, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(5)
    assert all(float(p.abs().max()) <= bound for p in ours.parameters())
    ours.flatten_parameters()  # accepted, as in PyTorch
    assert len(ours.all_weights) == 4 and len(ours.all_weights[0]) == 5


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(4, 8, num_layers=2, dropout=0.5)
    x = minigrad.randn(5, 2, 4)
    minigrad.manual_seed(0)
    a, _ = lstm(x)
    minigrad.manual_seed(1)
    b, _ = lstm(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    lstm.eval()
    c, _ = lstm(x)
    d, _ = lstm(x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())


def test_errors_name_the_problem():
    lstm = nn.LSTM(4, 5)
    with pytest.raises(RuntimeError, match="input_size. Expected 4, got 3"):
        lstm(minigrad.randn(2, 1, 3))
    with pytest.raises(
        RuntimeError, match=r"Expected hidden\[0\] size \(1, 1, 5\), got \[1, 2, 5\]"
    ):
        lstm(minigrad.randn(2, 1, 4), (minigrad.zeros(1, 2, 5), minigrad.zeros(1, 1, 5)))
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(4, 5, proj_size=5)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(4, 5, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(minigrad.randn(3, 2, 1), [1, 3])
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(2, 3, dropout=0.2)


def test_second_derivatives_flow_through_the_fused_cells():
    """create_graph through LSTM and GRU: the gradient's own gradient matches PyTorch."""
    torch = pytest.importorskip("torch")
    for name in ("LSTM", "GRU"):
        ours, theirs = _pair(torch, name, {})
        x = np.random.default_rng(7).standard_normal((3, 2, 4))
        results = []
        for lib, layer in ((minigrad, ours), (torch, theirs)):
            xt = lib.tensor(x, requires_grad=True)
            out = layer(xt)[0]
            (g,) = lib.autograd.grad((out**2).sum(), xt, create_graph=True)
            (gg,) = lib.autograd.grad((g**2).sum(), xt)
            results.append(_numpy(gg))
        np.testing.assert_allclose(results[0], results[1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_layer_runs_as_one_op_and_equals_the_cell_loop(bidirectional):
    """Equal-length sequences run each LSTM layer direction as one RecurrentSequence node; its outputs
    and gradients equal a plain loop of ``lstm_cell`` in float64."""
    minigrad.manual_seed(0)
    layer = nn.LSTM(3, 4, bidirectional=bidirectional).double()
    x = minigrad.randn(6, 2, 3, dtype=minigrad.float64, requires_grad=True)
    out, (h_n, c_n) = layer(x)
    assert "RecurrentSequenceOp" in {op_class(n).__name__ for n in _graph_nodes(out)}
    want_out, want_h, want_c = [], [], []
    for d, suffix in enumerate(["", "_reverse"][: 1 + bidirectional]):
        w = [
            getattr(layer, f"{k}_l0{suffix}")
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        h = c = minigrad.zeros(2, 4, dtype=minigrad.float64)
        steps = [None] * 6
        for t in range(5, -1, -1) if d else range(6):
            h, c = minigrad.lstm_cell(x[t], (h, c), *w)
            steps[t] = h
        want_out.append(minigrad.stack(steps))
        want_h.append(h)
        want_c.append(c)
    want = (minigrad.cat(want_out, -1), minigrad.stack(want_h), minigrad.stack(want_c))
    for got, ref in zip((out, h_n, c_n), want):
        np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    inputs = [x, *layer.parameters()]
    loss = out.sin().sum() + h_n.sum() + (c_n * c_n).sum()
    ref_loss = want[0].sin().sum() + want[1].sum() + (want[2] * want[2]).sum()
    got_grads = minigrad.autograd.grad(loss, inputs)
    ref_grads = minigrad.autograd.grad(ref_loss, inputs)
    for g, r in zip(got_grads, ref_grads):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-10, atol=1e-12)


def _graph_nodes(t):
    seen, stack = set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(e[0] for e in node.next_functions if e[0] is not None)
    return seen


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh"])
def test_packed_overload_of_the_layer_functions_is_refused(name):
    """torch.gru(data, batch_sizes, hx, params, ...) has the same length as the padded form: its
    tensors must not be read as weights."""
    data, batch_sizes = minigrad.randn(6, 3), minigrad.tensor([2, 2, 2])
    gates = {"lstm": 4, "gru": 3, "rnn_tanh": 1}[name]
    hx = minigrad.zeros(1, 2, 4)
    state = (hx, hx) if name == "lstm" else hx
    params = [minigrad.randn(gates * 4, 3), minigrad.randn(gates * 4, 4)]
    with pytest.raises(NotImplementedError, match="packed overload"):
        getattr(minigrad, name)(data, batch_sizes, state, params, False, 1, 0.0, False, False)
