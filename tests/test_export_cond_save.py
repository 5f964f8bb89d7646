"""``minigrad.export.save``/``load`` of programs whose graphs call ``minigrad.cond``: the
branch GraphModules are saved as node records too (nested conds and the layers a branch calls
included), and the loaded program picks its branch at run time as the exported one."""

import io

import pytest

import minigrad
from minigrad import nn
from minigrad.export import export, load, save


class Gate(nn.Module):
    """A cond whose true branch holds another cond and calls a layer without tensors; both
    branches read a parameter."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.act = nn.Tanh()

    def forward(self, x):
        def inner_true(v):
            return self.act(self.fc(v)) * 2

        def inner_false(v):
            return self.fc(v) - 1

        def true_fn(v):
            return minigrad.cond(v.mean() > 1, inner_true, inner_false, (v,))

        def false_fn(v):
            return self.fc(-v).relu()

        return minigrad.cond(x.sum() > 0, true_fn, false_fn, (x,)) + 1


def _round_trip(ep):
    buffer = io.BytesIO()
    save(ep, buffer)
    buffer.seek(0)
    return load(buffer)


def test_a_program_with_nested_cond_branches_round_trips():
    model = Gate()
    x = minigrad.randn(2, 3)
    ep = export(model, (x,))
    loaded = _round_trip(ep)
    assert loaded.graph_module.code == ep.graph_module.code
    names = [n for n, _ in loaded.graph_module.named_modules() if n]
    assert "true_graph_0" in names and "false_graph_0" in names
    assert any(n.startswith("true_graph_0.") for n in names)  # the nested cond's branches
    for v in (minigrad.full((2, 3), 2.0), minigrad.full((2, 3), 0.5), -minigrad.ones(2, 3)):
        want = model(v)
        assert minigrad.allclose(loaded.module()(v), want, atol=1e-6)
        assert minigrad.allclose(ep.module()(v), want, atol=1e-6)
    assert list(loaded.state_dict) == list(ep.state_dict)


def test_a_loaded_branch_whose_code_was_edited_is_refused(monkeypatch):
    ep = export(Gate(), (minigrad.randn(2, 3),))
    from minigrad.export import _serialize

    original = _serialize._module_records

    def tampered(gm):
        records = original(gm)
        for branch in records.get("branches", {}).values():
            branch["code"] += "# edited\n"
        return records

    monkeypatch.setattr(_serialize, "_module_records", tampered)
    buffer = io.BytesIO()
    save(ep, buffer)
    buffer.seek(0)
    with pytest.raises(RuntimeError, match="branch true_graph_0 .* other code"):
        load(buffer)


def test_programs_without_cond_keep_their_file_layout():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    ep = export(model, (minigrad.randn(1, 2),))
    loaded = _round_trip(ep)
    x = minigrad.randn(1, 2)  # (the guards keep the example's shape)
    assert minigrad.allclose(loaded.module()(x), model(x))
    import json

    buffer = io.BytesIO()
    save(ep, buffer)
    buffer.seek(0)
    payload = minigrad.load(buffer)
    assert payload["format"] == "minigrad.export/2"
    assert "branches" not in json.loads(payload["meta"])  # (as files written before)


def _encoder(lib):
    class Encoder(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0)
            self.head = lib.nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.enc(x)).mean(1)

    return Encoder().eval()


def test_multihead_attention_in_functional_call_and_a_saved_export_as_torch():
    torch = pytest.importorskip("torch")
    import numpy as np

    from minigrad.func import functional_call

    ours, theirs = _encoder(minigrad), _encoder(torch)
    params = {k: v.detach() * 1.5 for k, v in ours.named_parameters()}  # not the module's own
    x = minigrad.randn(3, 4, 8)
    got = functional_call(ours, params, (x,))
    state = {k: torch.tensor(v.numpy()) for k, v in params.items()}
    want = torch.func.functional_call(theirs, state, (torch.tensor(x.numpy()),))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-5)
    ep = export(ours, (x,))
    assert "functional_call" in ep.graph_module.code  # the attention is called whole
    loaded = _round_trip(ep)  # the layer is rebuilt from its constructor call, not its repr
    assert minigrad.allclose(loaded.module()(x), ours(x), atol=1e-6)
    assert loaded.graph_module.enc.self_attn.training is False
