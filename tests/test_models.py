"""Reference models: shapes, one training step lowers the loss, GPT sampling, fine-tuning."""

import copy
import math

import numpy as np
import pytest
from minigrad.models import (
    GPT,
    MLP,
    VAE,
    Autoencoder,
    DenoisingAutoencoder,
    GPTConfig,
    LeNet,
    count_parameters,
    prepare_for_finetuning,
)

import minigrad
from minigrad.nn import functional as F


def _step_lowers(model, loss_fn, lr=1e-2):
    """Loss on a fixed batch before and after one Adam step (eval-free, same random draws)."""
    opt = minigrad.optim.Adam(model.parameters(), lr=lr)
    minigrad.manual_seed(1)
    before = loss_fn()
    opt.zero_grad()
    before.backward()
    opt.step()
    minigrad.manual_seed(1)
    after = loss_fn()
    assert after.item() < before.item()


def test_mlp_shapes_and_step():
    model = MLP(64, hidden=(32, 16), out_features=10, dropout=0.1)
    assert model(minigrad.randn(5, 64)).shape == (5, 10)
    assert model(minigrad.randn(5, 1, 8, 8)).shape == (5, 10)  # images are flattened
    assert model.head.out_features == 10
    x, y = minigrad.randn(16, 64), minigrad.randint(0, 10, (16,))
    _step_lowers(model, lambda: F.cross_entropy(model(x), y))
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(4, activation="swish")


@pytest.mark.parametrize("size", [8, 28])
def test_lenet_shapes_and_step(size):
    model = LeNet(image_size=size, num_classes=7)
    x, y = minigrad.rand(4, 1, size, size), minigrad.randint(0, 7, (4,))
    assert model(x).shape == (4, 7)
    _step_lowers(model, lambda: F.cross_entropy(model(x), y), lr=3e-3)


def test_lenet_rejects_odd_sizes():
    with pytest.raises(ValueError, match="divisible by 4"):
        LeNet(image_size=10)


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder])
def test_autoencoders(cls):
    model = cls(64, hidden=(32,), latent_dim=3)
    x = minigrad.rand(8, 64)
    out = model(x)
    assert out.shape == (8, 64) and 0 <= float(out.min()) and float(out.max()) <= 1
    assert model.encode(x).shape == (8, 3) and model.decode(minigrad.randn(2, 3)).shape == (2, 64)
    assert model(minigrad.rand(8, 1, 8, 8)).shape == (8, 64)
    _step_lowers(model, lambda: F.mse_loss(model(x), x))


def test_denoising_corrupts_only_in_training():
    dae = DenoisingAutoencoder(16, hidden=(8,), latent_dim=2, noise_std=0.5, mask_prob=0.2)
    x = minigrad.rand(4, 16)
    noisy = dae.corrupt(x)
    assert not minigrad.equal(noisy, x)
    assert 0 <= float(noisy.min()) and float(noisy.max()) <= 1
    dae.eval()
    assert minigrad.equal(dae(x), dae.decode(dae.encode(x)))
    with pytest.raises(ValueError, match="noise_std"):
        DenoisingAutoencoder(16, noise_std=-1)


def test_vae_loss_sampling_and_step():
    vae = VAE(64, hidden=(32,), latent_dim=2)
    x = minigrad.rand(8, 64)
    logits, mu, logvar = vae(x)
    assert logits.shape == (8, 64) and mu.shape == (8, 2) and logvar.shape == (8, 2)
    loss, recon, kl = VAE.loss_function(logits, x, mu, logvar)
    assert float(kl) >= 0 and loss.item() == pytest.approx(recon.item() + kl.item(), rel=1e-5)
    # the KL term in closed form
    m, lv = mu.detach().numpy(), logvar.detach().numpy()
    expected = -0.5 * (1 + lv - m**2 - np.exp(lv)).sum() / 8
    assert kl.item() == pytest.approx(expected, rel=1e-4)
    vae.eval()
    assert minigrad.equal(vae.reparameterize(mu, logvar), mu)
    samples = vae.sample(5)
    assert samples.shape == (5, 64) and not samples.requires_grad
    vae.train()

    def negative_elbo():
        logits, mu, logvar = vae(x)
        return VAE.loss_function(logits, x, mu, logvar)[0]

    _step_lowers(vae, negative_elbo, lr=3e-3)


# -- GPT ------------------------------------------------------------------------------------------
@pytest.fixture
def gpt():
    minigrad.manual_seed(0)
    return GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


def test_gpt_forward_and_loss(gpt):
    idx = minigrad.randint(0, 11, (3, 8))
    logits = gpt(idx)
    assert logits.shape == (3, 8, 11)
    logits, loss = gpt(idx, idx)
    assert abs(loss.item() - math.log(11)) < 0.3  # small init: close to uniform
    assert gpt.head.weight is gpt.tok_emb.weight  # tied
    assert isinstance(gpt.config, GPTConfig) and gpt.config.n_layer == 2
    with pytest.raises(ValueError, match="exceeds block_size"):
        gpt(minigrad.randint(0, 11, (1, 9)))


def test_gpt_is_causal(gpt):
    gpt.eval()
    a = minigrad.randint(0, 11, (1, 8))
    b = a.clone()
    b[0, 5] = (int(a[0, 5]) + 1) % 11
    la, lb = gpt(a).detach().numpy(), gpt(b).detach().numpy()
    np.testing.assert_allclose(la[0, :5], lb[0, :5], atol=1e-5)
    assert not np.allclose(la[0, 5:], lb[0, 5:])


def test_gpt_training_step_lowers_loss(gpt):
    idx = minigrad.randint(0, 11, (4, 8))
    _step_lowers(gpt, lambda: gpt(idx[:, :-1], idx[:, 1:])[1], lr=3e-3)


def test_gpt_generate_length_and_mode(gpt):
    prompt = minigrad.randint(0, 11, (2, 3))
    gpt.train()
    out = gpt.generate(prompt, max_new_tokens=12)  # longer than block_size: crops the context
    assert out.shape == (2, 15) and out.dtype == minigrad.int64
    assert minigrad.equal(out[:, :3], prompt)
    assert 0 <= int(out.min()) and int(out.max()) < 11
    assert gpt.training  # mode restored


def test_gpt_generate_respects_top_k(gpt):
    prompt = minigrad.randint(0, 11, (3, 2))
    out = gpt.generate(prompt, max_new_tokens=6, top_k=3, temperature=2.0)
    gpt.eval()
    with minigrad.no_grad():
        for t in range(2, 8):
            logits = gpt(out[:, :t])[:, -1, :].numpy()
            allowed = np.argsort(logits, axis=1)[:, -3:]
            chosen = out[:, t].numpy()
            assert all(chosen[i] in allowed[i] for i in range(3))


def test_gpt_top_k_one_is_greedy(gpt):
    prompt = minigrad.randint(0, 11, (2, 2))
    out = gpt.generate(prompt, max_new_tokens=4, top_k=1)
    idx = prompt
    gpt.eval()
    with minigrad.no_grad():
        for _ in range(4):
            nxt = gpt(idx)[:, -1, :].argmax(dim=-1, keepdim=True)
            idx = minigrad.cat([idx, nxt], dim=1)
    assert minigrad.equal(out, idx)


def test_gpt_generate_is_reproducible_and_validates(gpt):
    prompt = minigrad.zeros(1, 1, dtype=minigrad.int64)
    a = gpt.generate(prompt, 5, generator=minigrad.Generator().manual_seed(3))
    b = gpt.generate(prompt, 5, generator=minigrad.Generator().manual_seed(3))
    assert minigrad.equal(a, b)
    with pytest.raises(ValueError, match="temperature"):
        gpt.generate(prompt, 2, temperature=0)
    with pytest.raises(ValueError, match="top_k"):
        gpt.generate(prompt, 2, top_k=12)


# -- fine-tuning ----------------------------------------------------------------------------------
def _features(model, x):
    """The input to the output layer."""
    for layer in list(model.net)[:-1]:
        x = layer(x)
    return x


def test_prepare_for_finetuning_counts_and_starts_from_base():
    base = MLP(64, hidden=(32, 32), out_features=10)
    x = minigrad.randn(4, 64)
    expected = {
        "full": count_parameters(base) - (32 * 10 + 10) + (32 * 5 + 5),
        "head": 32 * 5 + 5,
        "adapter": 2 * (32 * 4 + 4 + 4 * 32 + 32) + 32 * 5 + 5,
        "lora": (2 * 64 + 2 * 32) + (2 * 32 + 2 * 32) + 32 * 5 + 5,
    }
    for method, n in expected.items():
        model = prepare_for_finetuning(base, method, num_classes=5, bottleneck=4, rank=2)
        assert count_parameters(model) == n, method
        assert model(x).shape == (4, 5)
        # adapters and LoRA start as the identity change: same features as the base
        np.testing.assert_allclose(
            _features(model, x).detach().numpy(), _features(base, x).detach().numpy(), atol=1e-6
        )
    with pytest.raises(ValueError, match="unknown fine-tuning method"):
        prepare_for_finetuning(base, "prefix", num_classes=5)


def test_finetuning_leaves_the_base_untouched():
    base = MLP(16, hidden=(8,), out_features=3)
    saved = copy.deepcopy(base.state_dict())
    x, y = minigrad.randn(8, 16), minigrad.randint(0, 2, (8,))
    for method in ("full", "lora", "adapter"):
        model = prepare_for_finetuning(base, method, num_classes=2, bottleneck=2, rank=2)
        frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
        _step_lowers(model, lambda m=model: F.cross_entropy(m(x), y))
        for name, p in model.named_parameters():
            if name in frozen:
                assert minigrad.equal(p, frozen[name]), (method, name)
    for key, value in base.state_dict().items():
        assert minigrad.equal(value, saved[key])
