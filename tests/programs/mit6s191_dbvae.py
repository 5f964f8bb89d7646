"""MIT 6.S191 (Introduction to Deep Learning), Lab 2 part 2 in its PyTorch edition: debiasing a
face detector with a DB-VAE, on tiny synthetic 16x16 "faces" whose rare subgroup is darker.
The standard CNN classifier (``ConvBlock`` = conv, ReLU, ``BatchNorm2d``; ``nn.Flatten``)
trained with ``binary_cross_entropy_with_logits`` on NumPy batches (``torch.from_numpy(x)
.float().permute(0, 3, 1, 2)``); then the DB-VAE: the encoder's output split into the class
logit (``[:, 0].unsqueeze(-1)``), ``z_mean`` and ``z_logsigma``, ``sampling`` by
``randn_like``, a ``FaceDecoder`` of ``ConvTranspose2d(output_padding=1)`` layers after a
``view``, the lab's ``vae_loss_function`` (KL term plus mean absolute reconstruction error over
``dim=(1, 2, 3)``) and ``debiasing_loss_function`` (the classification loss masked to faces by
``(y == 1.0).float()``); and ``get_training_sample_probabilities``, which runs the encoder under
``torch.inference_mode()``, takes the latent means to NumPy (``.cpu().numpy()``) and builds
resampling weights from ``np.histogram(density=True)`` and ``np.digitize`` per latent
dimension, used to draw the next batches with ``np.random.choice(p=...)``."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

device = torch.device("cpu")
np.random.seed(0)
torch.manual_seed(0)

# --- the data: faces (y=1) are a bright blob; 20% of them are a darker subgroup; non-faces noise
n = 64
images = np.random.rand(n, 16, 16, 3).astype(np.float32) * 0.3
labels = np.zeros((n, 1), dtype=np.float32)
labels[: n // 2] = 1.0
images[: n // 2, 4:12, 4:12, :] += 0.6
images[: n // 10, 4:12, 4:12, :] -= 0.4  # the rare, darker faces
dark = np.zeros(n, dtype=bool)
dark[: n // 10] = True


def get_batch(batch_size, p=None):
    idx = np.random.choice(n, size=batch_size, replace=False, p=p)
    return images[idx], labels[idx], idx


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=padding)
        self.relu = nn.ReLU()
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.bn(self.relu(self.conv(x)))


n_filters = 4


def make_standard_classifier(n_outputs):
    return nn.Sequential(
        ConvBlock(3, n_filters, 5, 2, padding=2),
        ConvBlock(n_filters, 2 * n_filters, 3, 2, padding=1),
        nn.Flatten(),
        nn.Linear(4 * 4 * 2 * n_filters, 32),
        nn.ReLU(),
        nn.Linear(32, n_outputs),
    )


standard_classifier = make_standard_classifier(n_outputs=1).to(device)
optimizer = torch.optim.Adam(standard_classifier.parameters(), lr=5e-3)
classifier_losses = []
for step in range(6):
    x, y, _ = get_batch(16)
    x = torch.from_numpy(x).float().permute(0, 3, 1, 2).to(device)
    y = torch.from_numpy(y).float().to(device)
    logits = standard_classifier(x)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    classifier_losses.append(loss.item())


def vae_loss_function(x, x_recon, mu, logsigma, kl_weight=0.0005):
    latent_loss = 0.5 * torch.sum(torch.exp(logsigma) + mu**2 - 1.0 - logsigma, dim=1)
    reconstruction_loss = torch.mean(torch.abs(x - x_recon), dim=(1, 2, 3))
    vae_loss = kl_weight * latent_loss + reconstruction_loss
    return vae_loss


def sampling(z_mean, z_logsigma):
    eps = torch.randn_like(z_mean)
    z = z_mean + torch.exp(0.5 * z_logsigma) * eps
    return z


def debiasing_loss_function(x, x_pred, y, y_logit, mu, logsigma):
    vae_loss = vae_loss_function(x, x_pred, mu, logsigma)
    classification_loss = F.binary_cross_entropy_with_logits(y_logit, y, reduction="none")
    y = y.float()
    face_indicator = (y == 1.0).float()
    total_loss = torch.mean(classification_loss * face_indicator + vae_loss)
    return total_loss, classification_loss


class FaceDecoder(nn.Module):
    def __init__(self, latent_dim, n_filters=4):
        super().__init__()
        self.n_filters = n_filters
        self.linear = nn.Sequential(nn.Linear(latent_dim, 4 * 4 * 2 * n_filters), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(2 * n_filters, n_filters, kernel_size=3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(n_filters, 3, kernel_size=3, stride=2, padding=1, output_padding=1),
        )  # fmt: skip

    def forward(self, z):
        x = self.linear(z)
        x = x.view(-1, 2 * self.n_filters, 4, 4)
        return self.deconv(x)


class DB_VAE(nn.Module):
    def __init__(self, latent_dim=4):
        super().__init__()
        self.latent_dim = latent_dim
        num_encoder_dims = 2 * self.latent_dim + 1
        self.encoder = make_standard_classifier(num_encoder_dims)
        self.decoder = FaceDecoder(latent_dim)

    def encode(self, x):
        encoder_output = self.encoder(x)
        y_logit = encoder_output[:, 0].unsqueeze(-1)
        z_mean = encoder_output[:, 1 : self.latent_dim + 1]
        z_logsigma = encoder_output[:, self.latent_dim + 1 :]
        return y_logit, z_mean, z_logsigma

    def reparameterize(self, z_mean, z_logsigma):
        return sampling(z_mean, z_logsigma)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        y_logit, z_mean, z_logsigma = self.encode(x)
        z = self.reparameterize(z_mean, z_logsigma)
        recon = self.decode(z)
        return y_logit, z_mean, z_logsigma, recon

    def predict(self, x):
        y_logit, z_mean, z_logsigma = self.encode(x)
        return y_logit


latent_dim = 4
dbvae = DB_VAE(latent_dim).to(device)


def get_latent_mu(images, dbvae, batch_size=32):
    dbvae.eval()
    all_z_mean = []
    images_t = torch.from_numpy(images).float()
    with torch.inference_mode():
        for start in range(0, len(images_t), batch_size):
            batch = images_t[start : start + batch_size].to(device).permute(0, 3, 1, 2)
            _, z_mean, _, _ = dbvae(batch)
            all_z_mean.append(z_mean.cpu())
    z_mean_full = torch.cat(all_z_mean, dim=0)
    return z_mean_full.numpy()


def get_training_sample_probabilities(images, dbvae, bins=5, smoothing_fac=0.001):
    mu = get_latent_mu(images, dbvae)
    training_sample_p = np.zeros(mu.shape[0], dtype=np.float64)
    for i in range(latent_dim):
        latent_distribution = mu[:, i]
        hist_density, bin_edges = np.histogram(latent_distribution, density=True, bins=bins)
        bin_edges[0] = -float("inf")
        bin_edges[-1] = float("inf")
        bin_idx = np.digitize(latent_distribution, bin_edges)
        hist_smoothed_density = hist_density + smoothing_fac
        hist_smoothed_density = hist_smoothed_density / np.sum(hist_smoothed_density)
        p = 1.0 / (hist_smoothed_density[bin_idx - 1])
        p = p / np.sum(p)
        training_sample_p = np.maximum(training_sample_p, p)
    training_sample_p /= np.sum(training_sample_p)
    return training_sample_p


optimizer = torch.optim.Adam(dbvae.parameters(), lr=5e-3)
dbvae_losses, sample_probs, dark_weight = [], [], []
for epoch in range(2):
    p_faces = get_training_sample_probabilities(images[: n // 2], dbvae)
    sample_probs.append(np.sort(p_faces)[-3:].tolist())
    dark_weight.append(float(p_faces[dark[: n // 2]].sum()))
    dbvae.train()
    for step in range(3):
        face_idx = np.random.choice(n // 2, size=8, replace=False, p=p_faces)
        other_idx = np.random.choice(np.arange(n // 2, n), size=8, replace=False)
        idx = np.concatenate([face_idx, other_idx])
        x = torch.from_numpy(images[idx]).float().permute(0, 3, 1, 2).to(device)
        y = torch.from_numpy(labels[idx]).float().to(device)
        y_logit, z_mean, z_logsigma, x_recon = dbvae(x)
        loss, class_loss = debiasing_loss_function(x, x_recon, y, y_logit, z_mean, z_logsigma)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        dbvae_losses.append(loss.item())
recon_shape = tuple(x_recon.shape)
class_loss_faces = class_loss[:8].mean().item()
with torch.inference_mode():
    x = torch.from_numpy(images).permute(0, 3, 1, 2)
    dbvae.eval()
    predictions = torch.sigmoid(dbvae.predict(x)).squeeze(-1)
    accuracy = ((predictions > 0.5).float().numpy() == labels[:, 0]).mean().item()
    inference_flags = (predictions.is_inference(), predictions.requires_grad)
