"""Autoencoders on the bundled 8x8 digits: a dense autoencoder, a denoising autoencoder and a
VAE, each with a 2-D code so that the latent space can be drawn.

    python examples/autoencoder_digits.py
    python examples/autoencoder_digits.py --latent 8 --epochs 300 --device cuda

Writes into --out: reconstructions.png (test digits, their reconstructions, noisy copies and
what the denoising autoencoder makes of them), latent.png (test codes coloured by digit),
vae_manifold.png (images decoded from a grid of VAE codes) and metrics.json.
"""

from __future__ import annotations

import _common
from minigrad.models import VAE, Autoencoder, DenoisingAutoencoder

import minigrad
from minigrad.datasets import Digits
from minigrad.nn import functional as F
from minigrad.utils.data import DataLoader


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/autoencoder_digits")
    p.add_argument("--epochs", type=int, default=150, help="default: 150")
    p.add_argument("--batch-size", type=int, default=64, help="default: 64")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default: 2e-3)")
    p.add_argument("--latent", type=int, default=2, help="code size (default: 2)")
    p.add_argument("--noise", type=float, default=0.3, help="denoising noise std (default: 0.3)")
    return p.parse_args(argv)


def loss_of(model, x):
    """Mean squared reconstruction error, or the VAE's negative ELBO per image."""
    if isinstance(model, VAE):
        logits, mu, logvar = model(x)
        return VAE.loss_function(logits, x, mu, logvar)[0]
    return F.mse_loss(model(x), x)


def train(name, model, train_set, args) -> list[float]:
    optimizer = minigrad.optim.Adam(model.parameters(), lr=args.lr)
    generator = minigrad.Generator().manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator)
    steps_per_epoch = 3 if args.smoke else len(loader)
    history = []
    bar = _common.progress(range(args.epochs), not args.no_progress, desc=name, leave=False)
    for _ in bar:
        model.train()
        total = 0.0
        for step, (x, _y) in enumerate(loader):
            if step == steps_per_epoch:
                break
            loss = loss_of(model, x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        history.append(total / steps_per_epoch)
        _common.set_postfix(bar, loss=history[-1])
    return history


def reconstruct(model, x):
    model.eval()
    with minigrad.no_grad():
        if isinstance(model, VAE):
            return model.decode(model.encode(x)[0])
        return model(x)


def codes(model, x):
    model.eval()
    with minigrad.no_grad():
        z = model.encode(x)
        return (z[0] if isinstance(model, VAE) else z).cpu().numpy()


def plot(models, test_set, noisy, out) -> None:
    plt = _common.pyplot()
    if plt is None:
        return
    import numpy as np

    x, labels = test_set.data, test_set.targets.cpu().numpy()
    picks = np.array([int(np.flatnonzero(labels == d)[0]) for d in range(10)])
    rows = [
        ("test digit", x),
        ("autoencoder", reconstruct(models["autoencoder"], x)),
        ("noisy input", noisy),
        ("denoised (DAE)", reconstruct(models["denoising"], noisy)),
        ("VAE", reconstruct(models["vae"], x)),
    ]
    fig, axes = plt.subplots(len(rows), 10, figsize=(9, 1 + 0.95 * len(rows)))
    for r, (title, images) in enumerate(rows):
        images = images.cpu().numpy().reshape(-1, 8, 8)
        for c, i in enumerate(picks):
            axes[r, c].imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(title, fontsize=8, rotation=0, ha="right", va="center")
    _common.save_figure(fig, out / "reconstructions.png")

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (name, model) in zip(axes, models.items()):
        z = codes(model, x)
        points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=10, vmin=-0.5, vmax=9.5)
        ax.set(title=f"{name}: test codes", xlabel="z₁", ylabel="z₂")
    fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
    fig.savefig(out / "latent.png", dpi=110)
    plt.close(fig)
    print(f"wrote {out / 'latent.png'}")
    plot_manifold(plt, models["vae"], out)


def plot_manifold(plt, vae, out, n=12) -> None:
    """Images decoded from an n×n grid of 2-D codes spanning the prior's ±2 standard deviations."""
    if vae.latent_dim != 2:
        return
    import numpy as np

    grid = np.linspace(-2, 2, n, dtype=np.float32)
    z = np.array([[a, b] for b in grid[::-1] for a in grid], dtype=np.float32)
    p = next(vae.parameters())
    with minigrad.no_grad():
        images = vae.decode(minigrad.tensor(z, device=p.device)).cpu().numpy()
    tiles = np.zeros((n, n, 10, 10), dtype=np.float32)  # a 1-pixel white border around each
    tiles[:, :, 1:9, 1:9] = images.reshape(n, n, 8, 8)
    canvas = tiles.transpose(0, 2, 1, 3).reshape(10 * n, 10 * n)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(canvas, cmap="gray_r", extent=(-2, 2, -2, 2))
    ax.set(title="VAE: decoded codes", xlabel="z₁", ylabel="z₂")
    _common.save_figure(fig, out / "vae_manifold.png")


def main(argv=None) -> dict:
    args = arguments(argv)
    device = _common.setup(args)
    train_set = Digits(train=True, seed=args.seed, device=device)
    test_set = Digits(train=False, seed=args.seed, device=device)
    hidden = (128, 64)
    models = {
        "autoencoder": Autoencoder(64, hidden, args.latent),
        "denoising": DenoisingAutoencoder(64, hidden, args.latent, noise_std=args.noise),
        "vae": VAE(64, hidden, args.latent),
    }
    timer, histories = _common.Timer(), {}
    for name, model in models.items():
        histories[name] = train(name, model.to(device), train_set, args)
    x = test_set.data
    noisy = models["denoising"].corrupt(x)
    mse = {name: F.mse_loss(reconstruct(m, x), x).item() for name, m in models.items()}
    noisy_mse = {name: F.mse_loss(reconstruct(m, noisy), x).item() for name, m in models.items()}
    print(f"\n{'model':<12} {'test MSE':>9} {'MSE from noisy input':>21}")
    for name in models:
        print(f"{name:<12} {mse[name]:>9.4f} {noisy_mse[name]:>21.4f}")
    metrics = {
        "device": device,
        "latent": args.latent,
        "epochs": args.epochs,
        "test_mse": mse,
        "test_mse_from_noisy": noisy_mse,
        "loss_history": histories,
        "seconds": timer(),
    }
    print(f"trained 3 models in {metrics['seconds']:.1f}s")
    _common.save_json(metrics, args.out / "metrics.json")
    plot(models, test_set, noisy, args.out)
    return metrics


if __name__ == "__main__":
    main()
