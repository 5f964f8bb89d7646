"""Autoencoders for images in [0, 1]: dense, denoising, and variational (VAE)."""

from __future__ import annotations

from collections.abc import Sequence

import minigrad
from minigrad import nn
from minigrad.nn import functional as F


def _stack(sizes: Sequence[int], last_activation: bool) -> nn.Sequential:
    """Linear layers between consecutive ``sizes`` with ReLU between them."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if last_activation or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """A dense autoencoder: ``encoder`` to a ``latent_dim`` code, ``decoder`` back to pixels.

    The decoder ends with a sigmoid, so reconstructions lie in [0, 1] like the inputs.

    Args:
        in_features: pixels per image (64 for 8×8 digits).
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        latent_dim: size of the code.

    Shape:
        (N, in_features) or (N, *) → (N, in_features).

    Example:
        >>> ae = Autoencoder(64, hidden=(32,), latent_dim=2)
        >>> x = minigrad.rand(16, 64)
        >>> loss = F.mse_loss(ae(x), x)
    """

    def __init__(self, in_features: int = 64, hidden: Sequence[int] = (128, 64), latent_dim=8):
        super().__init__()
        sizes = [in_features, *hidden, latent_dim]
        self.in_features, self.latent_dim = in_features, latent_dim
        self.encoder = _stack(sizes, last_activation=False)
        self.decoder = _stack(sizes[::-1], last_activation=False)

    def encode(self, x):
        """(N, *) → (N, latent_dim) codes."""
        return self.encoder(x.reshape(x.shape[0], -1))

    def decode(self, z):
        """(N, latent_dim) codes → (N, in_features) reconstructions in [0, 1]."""
        return self.decoder(z).sigmoid()

    def forward(self, x):
        return self.decode(self.encode(x))


class DenoisingAutoencoder(Autoencoder):
    """An autoencoder trained to undo corruption (Vincent et al., 2008).

    In training mode the input is corrupted before encoding — Gaussian noise of standard
    deviation ``noise_std`` (clipped back to [0, 1]) and/or pixels zeroed with probability
    ``mask_prob`` — while the loss compares the output with the clean input. In eval mode it
    is a plain autoencoder.

    Args:
        in_features, hidden, latent_dim: as :class:`Autoencoder`.
        noise_std: standard deviation of the additive Gaussian noise.
        mask_prob: probability of zeroing each input pixel.

    Example:
        >>> dae = DenoisingAutoencoder(64, noise_std=0.3)
        >>> loss = F.mse_loss(dae(x), x)          # x clean: dae corrupts it itself
    """

    def __init__(
        self,
        in_features: int = 64,
        hidden: Sequence[int] = (128, 64),
        latent_dim: int = 8,
        noise_std: float = 0.3,
        mask_prob: float = 0.0,
    ):
        super().__init__(in_features, hidden, latent_dim)
        if noise_std < 0 or not 0 <= mask_prob < 1:
            raise ValueError(
                f"DenoisingAutoencoder: need noise_std >= 0 and 0 <= mask_prob < 1, got "
                f"noise_std={noise_std}, mask_prob={mask_prob}"
            )
        self.noise_std, self.mask_prob = noise_std, mask_prob

    def corrupt(self, x):
        """``x`` with Gaussian noise and masking applied (always, whatever the mode)."""
        if self.noise_std > 0:
            x = (x + self.noise_std * minigrad.randn_like(x)).clamp(0.0, 1.0)
        if self.mask_prob > 0:
            x = x * (minigrad.rand_like(x) >= self.mask_prob).to(x.dtype)
        return x

    def forward(self, x):
        return self.decode(self.encode(self.corrupt(x) if self.training else x))


class VAE(nn.Module):
    """A variational autoencoder (Kingma & Welling, 2014) with a Gaussian code and a Bernoulli
    decoder.

    The encoder gives the mean ``mu`` and log-variance ``logvar`` of q(z|x); a code is drawn
    with the reparameterisation ``z = mu + exp(logvar / 2)·ε``, ε ~ N(0, I), so gradients flow
    through ``mu`` and ``logvar``. In eval mode ``z = mu``. The loss is the negative ELBO per
    image: ``BCE(decoder logits, x) + beta·KL(q(z|x) ‖ N(0, I))``, with
    ``KL = -½·Σ(1 + logvar - mu² - exp(logvar))``.

    Args:
        in_features: pixels per image; hidden: encoder widths; latent_dim: size of z.

    Example:
        >>> vae = VAE(64, latent_dim=2)
        >>> logits, mu, logvar = vae(x)
        >>> loss, recon, kl = VAE.loss_function(logits, x, mu, logvar)
        >>> samples = vae.sample(16)                 # (16, 64) images in [0, 1]
    """

    def __init__(self, in_features: int = 64, hidden: Sequence[int] = (128, 64), latent_dim=2):
        super().__init__()
        self.in_features, self.latent_dim = in_features, latent_dim
        self.encoder = _stack([in_features, *hidden], last_activation=True)
        self.fc_mu = nn.Linear(hidden[-1], latent_dim)
        self.fc_logvar = nn.Linear(hidden[-1], latent_dim)
        self.decoder = _stack([latent_dim, *hidden[::-1], in_features], last_activation=False)

    def encode(self, x):
        """(N, *) → ``(mu, logvar)``, each (N, latent_dim)."""
        h = self.encoder(x.reshape(x.shape[0], -1))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar):
        """A differentiable draw from N(mu, exp(logvar)); ``mu`` itself in eval mode."""
        if not self.training:
            return mu
        return mu + (0.5 * logvar).exp() * minigrad.randn_like(mu)

    def decode_logits(self, z):
        """(N, latent_dim) → (N, in_features) Bernoulli logits."""
        return self.decoder(z)

    def decode(self, z):
        """(N, latent_dim) → (N, in_features) pixel probabilities in [0, 1]."""
        return self.decode_logits(z).sigmoid()

    def forward(self, x):
        """Returns ``(logits, mu, logvar)``: decoder logits for a sampled code, and q(z|x)."""
        mu, logvar = self.encode(x)
        return self.decode_logits(self.reparameterize(mu, logvar)), mu, logvar

    @staticmethod
    def loss_function(logits, x, mu, logvar, beta: float = 1.0):
        """The negative ELBO averaged over the batch: ``(loss, reconstruction, kl)``."""
        n = x.shape[0]
        target = x.reshape(n, -1)
        recon = F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / n
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / n
        return recon + beta * kl, recon, kl

    def sample(self, n: int, generator=None):
        """``n`` new images decoded from codes drawn from the prior N(0, I)."""
        p = next(self.parameters())
        z = minigrad.randn(n, self.latent_dim, generator=generator, device=p.device)
        with minigrad.no_grad():
            return self.decode(z)
