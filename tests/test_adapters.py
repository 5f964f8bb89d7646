"""Adapters and LoRA: identity at start, only adapter weights train, merge/unmerge, save/load."""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import adapters, lora
from minigrad.testing.fake_device import HostTransfers


class TinyGPT(nn.Module):
    """Two decoder blocks and a head: enough structure for name- and type-based targeting."""

    def __init__(self, vocab=11, d=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList([nn.TransformerDecoderBlock(d, 4) for _ in range(2)])
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def _tokens(seed=0):
    return minigrad.tensor(np.random.default_rng(seed).integers(0, 11, (2, 6)))


def _loss(model, tokens):
    logits = model(tokens)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens.reshape(-1))


def _snapshot(model):
    return {k: v.numpy(force=True).copy() for k, v in model.state_dict().items()}


def test_lora_linear_starts_identical_and_computes_the_low_rank_update():
    minigrad.manual_seed(0)
    base = nn.Linear(6, 4)
    x = minigrad.randn(3, 6)
    expected = base(x).detach().numpy()
    layer = nn.LoRALinear(base, r=2, alpha=6)
    assert layer.weight is base.weight and not layer.weight.requires_grad
    np.testing.assert_array_equal(layer(x).detach().numpy(), expected)
    with minigrad.no_grad():
        layer.lora_B.copy_(minigrad.randn(4, 2))
    a, b, w = (t.numpy(force=True) for t in (layer.lora_A, layer.lora_B, layer.weight))
    manual = x.numpy() @ w.T + base.bias.numpy(force=True) + (x.numpy() @ a.T @ b.T) * 3.0
    np.testing.assert_allclose(layer(x).detach().numpy(), manual, rtol=1e-5, atol=1e-6)
    bound = 1 / np.sqrt(6)  # kaiming_uniform(a=√5) on (r, in)
    assert np.abs(a).max() <= bound


def test_only_adapter_parameters_train_and_base_stays_bit_identical():
    minigrad.manual_seed(0)
    model = TinyGPT()
    tokens = _tokens()
    before = _snapshot(model)
    out_before = model(tokens).detach().numpy()
    lora.wrap(model, r=2, alpha=4, target_modules=["q_proj", "v_proj"])
    adapters.add_adapters(model, [nn.TransformerDecoderBlock], bottleneck=4)
    np.testing.assert_array_equal(model(tokens).detach().numpy(), out_before)  # starts identical
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == set(adapters.adapter_state_dict(model))
    assert {n.rsplit(".", 1)[-1] for n in trainable} <= {"lora_A", "lora_B", "weight", "bias"}
    assert all(".adapter." in n or ".lora_" in n for n in trainable)
    start = {k: v.numpy(force=True).copy() for k, v in adapters.adapter_state_dict(model).items()}
    lr = 0.05
    for _ in range(4):  # SGD steps by hand, as an optimizer would do them
        model.zero_grad()
        _loss(model, tokens).backward()
        for name, p in model.named_parameters():
            assert (p.grad is not None) == (name in trainable), name
            if p.grad is not None:
                with minigrad.no_grad():
                    p.sub_(lr * p.grad)
    after = _snapshot(model)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)
    end = adapters.adapter_state_dict(model)
    zero_init = [k for k in start if k.endswith(("lora_B", "up.weight"))]
    assert zero_init and all(end[k].numpy(force=True).any() for k in zero_init)  # they trained
    assert not np.allclose(model(tokens).detach().numpy(), out_before)


def test_base_checkpoint_loads_into_wrapped_model_and_optimizer_skips_frozen():
    minigrad.manual_seed(1)
    base = TinyGPT()
    checkpoint = base.state_dict()
    model = TinyGPT()
    lora.wrap(model, r=2, alpha=2, target_modules=[r"blocks\.\d+\.attn\.(q|k|v)_proj", "head"])
    result = model.load_state_dict(checkpoint, strict=False)
    assert sorted(result.missing_keys) == sorted(adapters.adapter_state_dict(model))
    assert not result.unexpected_keys
    frozen = _snapshot(model)
    opt = minigrad.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        _loss(model, _tokens(2)).backward()
        opt.step()
    after = _snapshot(model)
    for key, value in frozen.items():
        if "lora_" not in key:
            np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_merge_and_unmerge_round_trip():
    minigrad.manual_seed(2)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    lora.wrap(model, r=3, alpha=6, target_modules=[nn.Linear])
    with minigrad.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LoRALinear):
                m.lora_B.copy_(minigrad.randn(*m.lora_B.shape))
    x = minigrad.randn(5, 8)
    weights = [m.weight.numpy(force=True).copy() for m in model if isinstance(m, nn.LoRALinear)]
    unmerged = model(x).detach().numpy()
    lora.merge(model)
    lora.merge(model)  # idempotent
    assert all(m.merged for m in model if isinstance(m, nn.LoRALinear))
    np.testing.assert_allclose(model(x).detach().numpy(), unmerged, rtol=1e-5, atol=1e-5)
    lora.unmerge(model)
    np.testing.assert_allclose(model(x).detach().numpy(), unmerged, rtol=1e-5, atol=1e-6)
    for m, w in zip([m for m in model if isinstance(m, nn.LoRALinear)], weights):
        np.testing.assert_allclose(m.weight.numpy(force=True), w, rtol=0, atol=1e-6)


def test_adapter_state_dict_saves_and_loads(tmp_path):
    minigrad.manual_seed(3)

    def build():
        model = TinyGPT()
        lora.wrap(model, r=2, alpha=4, target_modules=["q_proj", "v_proj"], dropout=0.1)
        adapters.add_adapters(model, ["mlp"], bottleneck=3, activation="gelu")
        return model

    trained, fresh = build(), build()
    fresh.load_state_dict(trained.state_dict())  # the same base; adapters to be restored
    with minigrad.no_grad():
        for _, p in adapters.adapter_parameters(trained):
            p.add_(minigrad.randn(*p.shape) * 0.1)
    state = adapters.adapter_state_dict(trained)
    assert all("lora_" in k or ".adapter." in k for k in state)
    minigrad.save(state, tmp_path / "adapters.mgt")
    adapters.load_adapter_state_dict(fresh, minigrad.load(tmp_path / "adapters.mgt"))
    trained.eval(), fresh.eval()
    tokens = _tokens(4)
    np.testing.assert_array_equal(fresh(tokens).detach().numpy(), trained(tokens).detach().numpy())


def test_load_adapter_state_dict_reports_bad_keys():
    model = nn.Sequential(nn.Linear(4, 4))
    lora.wrap(model, r=2, target_modules=[nn.Linear])
    state = adapters.adapter_state_dict(model)
    with pytest.raises(
        RuntimeError, match=r"missing keys \['0.lora_B'\].*unexpected keys \['0.lora_C'\]"
    ):
        adapters.load_adapter_state_dict(
            model, {"0.lora_A": state["0.lora_A"], "0.lora_C": state["0.lora_B"]}
        )
    with pytest.raises(
        RuntimeError, match=r"size mismatch for 0.lora_A: expected \[2, 4\], got \[3, 4\]"
    ):
        adapters.load_adapter_state_dict(model, {**state, "0.lora_A": minigrad.zeros(3, 4)})


def test_targeting_and_errors():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    assert isinstance(lora.wrap(nn.Linear(3, 3), r=1), nn.LoRALinear)
    with pytest.raises(ValueError, match="no Linear layer"):
        lora.wrap(model, target_modules=["nothing"])
    lora.wrap(model, r=1, target_modules=["1"])
    assert isinstance(model[1], nn.LoRALinear) and not isinstance(model[0], nn.LoRALinear)
    assert not model[0].weight.requires_grad  # freeze_base
    with pytest.raises(TypeError, match="wraps an nn.Linear"):
        nn.LoRALinear(nn.ReLU())
    with pytest.raises(ValueError, match="rank r"):
        nn.LoRALinear(nn.Linear(2, 2), r=0)
    with pytest.raises(RuntimeError, match=r"Adapter\(dim=4.*last dimension 4, got shape \[2, 3\]"):
        nn.Adapter(4, 2)(minigrad.randn(2, 3))
    with pytest.raises(RuntimeError, match=r"LoRALinear\(in_features=4.*got shape \[2, 3\]"):
        model[1](minigrad.randn(2, 3))
    with pytest.raises(ValueError, match="output width"):
        adapters.add_adapters(nn.Sequential(nn.ReLU()), [nn.ReLU], bottleneck=2)


def test_adapter_is_identity_then_residual():
    adapter = nn.Adapter(6, 2, activation="tanh", scale=0.5)
    x = minigrad.randn(3, 6)
    np.testing.assert_array_equal(adapter(x).numpy(force=True), x.numpy())
    with minigrad.no_grad():
        adapter.up.weight.fill_(1.0)
    h = np.tanh(
        x.numpy() @ adapter.down.weight.numpy(force=True).T + adapter.down.bias.numpy(force=True)
    )
    np.testing.assert_allclose(
        adapter(x).detach().numpy(), x.numpy() + 0.5 * h.sum(-1, keepdims=True), rtol=1e-5
    )


def test_lora_on_device_matches_cpu_without_host_transfers(device):
    def run(dev):
        minigrad.manual_seed(5)
        model = nn.Sequential(nn.Linear(6, 6), nn.GELU(), nn.Linear(6, 2))
        lora.wrap(model, r=2, alpha=4, target_modules=[nn.Linear])
        adapters.add_adapters(model, ["0"], bottleneck=2)
        model.to(dev)
        with minigrad.no_grad():
            for _, p in adapters.adapter_parameters(model):
                p.add_(0.1)
        x = minigrad.tensor(
            np.random.default_rng(6).standard_normal((4, 6)), dtype=minigrad.float32, device=dev
        )
        before = HostTransfers.count
        model(x).square().sum().backward()
        transfers = HostTransfers.count - before
        return [p.grad.cpu().numpy() for _, p in adapters.adapter_parameters(model)], transfers

    expected, _ = run("cpu")
    got, transfers = run(device)
    assert transfers == 0
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
