"""HiFi-GAN (Kong et al., 2020) as the authors' PyTorch code (jik876/hifi-gan) writes it: a
generator of ConvTranspose1d upsampling and multi-receptive-field residual blocks with dilated
Conv1d and leaky ReLU, all convolutions under weight_norm (the parametrizations API) and removed
for inference; a multi-period discriminator (reflect-pad to a multiple of the period, view the
waveform as 2-D, Conv2d with (k, 1) kernels) and a multi-scale one (AvgPool1d, the first scale
under spectral_norm); LSGAN losses, feature matching over every layer's activations and an L1
loss on log-mel spectrograms (torch.stft, a triangular filterbank by hand), with AdamW and
ExponentialLR as the paper trains them."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrizations, parametrize, spectral_norm

LRELU = 0.1
wn = parametrizations.weight_norm


def init_weights(m, mean=0.0, std=0.01):
    if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)):
        m.weight.data.normal_(mean, std)


class ResBlock(nn.Module):
    def __init__(self, channels, kernel=3, dilations=(1, 3)):
        super().__init__()
        self.convs = nn.ModuleList(
            [wn(nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=d)) for d in dilations]
        )
        self.convs.apply(init_weights)

    def forward(self, x):
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LRELU))
        return x


class Generator(nn.Module):
    def __init__(self, n_mels=8, ch=16):
        super().__init__()
        self.conv_pre = wn(nn.Conv1d(n_mels, ch, 7, 1, padding=3))
        self.ups = nn.ModuleList(
            [
                wn(nn.ConvTranspose1d(ch, ch // 2, 8, 4, padding=2)),
                wn(nn.ConvTranspose1d(ch // 2, ch // 4, 4, 2, padding=1)),
            ]
        )
        self.resblocks = nn.ModuleList([ResBlock(ch // 2), ResBlock(ch // 4)])
        self.conv_post = wn(nn.Conv1d(ch // 4, 1, 7, 1, padding=3))
        self.ups.apply(init_weights)

    def forward(self, mel):
        x = self.conv_pre(mel)
        for up, res in zip(self.ups, self.resblocks):
            x = res(up(F.leaky_relu(x, LRELU)))
        return torch.tanh(self.conv_post(F.leaky_relu(x)))

    def remove_weight_norm(self):
        for m in self.modules():
            if parametrize.is_parametrized(m, "weight"):
                parametrize.remove_parametrizations(m, "weight")


class DiscriminatorP(nn.Module):
    def __init__(self, period):
        super().__init__()
        self.period = period
        self.convs = nn.ModuleList(
            [
                wn(nn.Conv2d(1, 8, (5, 1), (3, 1), padding=(2, 0))),
                wn(nn.Conv2d(8, 16, (5, 1), (3, 1), padding=(2, 0))),
            ]
        )
        self.conv_post = wn(nn.Conv2d(16, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x):
        fmap = []
        b, c, t = x.shape
        if t % self.period != 0:
            n_pad = self.period - (t % self.period)
            x = F.pad(x, (0, n_pad), "reflect")
            t = t + n_pad
        x = x.view(b, c, t // self.period, self.period)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class DiscriminatorS(nn.Module):
    def __init__(self, use_spectral_norm=False):
        super().__init__()
        norm = spectral_norm if use_spectral_norm else wn
        self.convs = nn.ModuleList(
            [
                norm(nn.Conv1d(1, 8, 15, 1, padding=7)),
                norm(nn.Conv1d(8, 16, 41, 4, groups=4, padding=20)),
            ]
        )
        self.conv_post = norm(nn.Conv1d(16, 1, 3, 1, padding=1))

    def forward(self, x):
        fmap = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), LRELU)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class MultiDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.discriminators = nn.ModuleList(
            [DiscriminatorP(2), DiscriminatorP(3), DiscriminatorS(True), DiscriminatorS()]
        )
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, y, y_hat):
        outs = ([], [], [], [])
        for i, d in enumerate(self.discriminators):
            if i == 3:
                y, y_hat = self.pool(y), self.pool(y_hat)
            for out, value in zip(outs, (*d(y), *d(y_hat))):
                out.append(value)
        return outs  # real scores, real fmaps, fake scores, fake fmaps


def feature_loss(fmap_r, fmap_g):
    return 2 * sum(
        torch.mean(torch.abs(rl - gl)) for dr, dg in zip(fmap_r, fmap_g) for rl, gl in zip(dr, dg)
    )


def discriminator_loss(real, fake):
    return sum(torch.mean((1 - dr) ** 2) + torch.mean(dg**2) for dr, dg in zip(real, fake))


def generator_loss(fake):
    return sum(torch.mean((1 - dg) ** 2) for dg in fake)


def mel_filterbank(n_freqs, n_mels):
    edges = torch.linspace(0, n_freqs - 1, n_mels + 2)
    bins = torch.arange(n_freqs).float().unsqueeze(1)
    up = (bins - edges[:-2]) / (edges[1:-1] - edges[:-2])
    down = (edges[2:] - bins) / (edges[2:] - edges[1:-1])
    return torch.clamp(torch.minimum(up, down), min=0)  # (n_freqs, n_mels)


FB = mel_filterbank(17, 8)


def log_mel(wave):  # (B, T) -> (B, 8, frames)
    spec = torch.stft(wave, 32, hop_length=8, window=torch.hann_window(32), return_complex=True)
    power = spec.abs().pow(2).clamp(min=1e-9)
    return torch.log(torch.clamp(torch.matmul(power.transpose(1, 2), FB), min=1e-5)).transpose(1, 2)


torch.manual_seed(0)
t = torch.arange(128).float()
freqs = torch.tensor([[0.05], [0.11], [0.17], [0.23]])
audio = (0.6 * torch.sin(2 * torch.pi * freqs * t)).unsqueeze(1)  # (4, 1, 128)
mel = log_mel(audio.squeeze(1))[:, :, :16]  # 16 frames * hop 8 = 128 samples
generator, mpd = Generator(), MultiDiscriminator()
optim_g = torch.optim.AdamW(generator.parameters(), 2e-3, betas=(0.8, 0.99))
optim_d = torch.optim.AdamW(mpd.parameters(), 2e-3, betas=(0.8, 0.99))
scheduler_g = torch.optim.lr_scheduler.ExponentialLR(optim_g, gamma=0.99)
scheduler_d = torch.optim.lr_scheduler.ExponentialLR(optim_d, gamma=0.99)
d_losses, g_losses, mel_losses = [], [], []
for step in range(8):
    y_g_hat = generator(mel)
    real, _, fake, _ = mpd(audio, y_g_hat.detach())
    loss_disc = discriminator_loss(real, fake)
    optim_d.zero_grad()
    loss_disc.backward()
    optim_d.step()
    loss_mel = F.l1_loss(log_mel(y_g_hat.squeeze(1)), log_mel(audio.squeeze(1)))
    real, fmap_r, fake, fmap_g = mpd(audio, y_g_hat)
    loss_gen = generator_loss(fake) + feature_loss(fmap_r, fmap_g) + 45 * loss_mel
    optim_g.zero_grad()
    loss_gen.backward()
    optim_g.step()
    scheduler_g.step()
    scheduler_d.step()
    d_losses.append(loss_disc.item())
    g_losses.append(loss_gen.item())
    mel_losses.append(loss_mel.item())
score_shapes = [tuple(s.shape) for s in real]
fmap_shapes = [tuple(f.shape) for f in fmap_r[0]]
param_names = sorted(n for n, _ in generator.named_parameters())[:4]
sn_buffers = sorted(n for n, _ in mpd.discriminators[2].convs[0].named_buffers())
generator.eval()
with torch.no_grad():
    before = generator(mel)
    generator.remove_weight_norm()
    removal_gap = (generator(mel) - before).abs().max().item()
last_lr = scheduler_g.get_last_lr()[0]
print(f"D {d_losses[0]:.3f} -> {d_losses[-1]:.3f}, mel {mel_losses[0]:.3f} -> {mel_losses[-1]:.3f}")
