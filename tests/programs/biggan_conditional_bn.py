"""BigGAN's class-conditional pieces (Brock et al. 2019) as ``ajbrock/BigGAN-PyTorch``'s
``layers.py`` and ``utils.py`` write them: ``ccbn`` (BatchNorm without affine, its gain
``1 + linear(y)`` and bias ``linear(y)`` from a *shared* class embedding concatenated with a
chunk of the latent, the hierarchical latent split by ``torch.split``), spectral-normalised
convolutions (``nn.utils.spectral_norm``), a generator block with nearest upsampling, a
projection discriminator (``sum(embed(y) * h)``), the hinge losses, and the modified
orthogonal regularisation ``ortho(model, strength)`` that adds
``2 * (W W^T * (1 - I)) W`` to each weight's gradient in place under ``torch.no_grad``. A few
alternating steps on 8x8 toy images; the running statistics and the spectral norm's ``u``
vectors go into the comparison."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(17)
n_classes, z_dim, shared_dim, ch = 3, 8, 4, 8
SN = nn.utils.spectral_norm


class ccbn(nn.Module):
    def __init__(self, output_size, input_size, eps=1e-5, momentum=0.1):
        super().__init__()
        self.output_size, self.input_size = output_size, input_size
        self.gain = SN(nn.Linear(input_size, output_size, bias=False))
        self.bias = SN(nn.Linear(input_size, output_size, bias=False))
        self.eps, self.momentum = eps, momentum
        self.register_buffer("stored_mean", torch.zeros(output_size))
        self.register_buffer("stored_var", torch.ones(output_size))

    def forward(self, x, y):
        gain = (1 + self.gain(y)).view(y.size(0), -1, 1, 1)
        bias = self.bias(y).view(y.size(0), -1, 1, 1)
        out = F.batch_norm(
            x, self.stored_mean, self.stored_var, None, None, self.training, self.momentum, self.eps
        )
        return out * gain + bias


class GBlock(nn.Module):
    def __init__(self, in_channels, out_channels, cond_dim):
        super().__init__()
        self.conv1 = SN(nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.conv2 = SN(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.conv_sc = SN(nn.Conv2d(in_channels, out_channels, 1))
        self.bn1, self.bn2 = ccbn(in_channels, cond_dim), ccbn(out_channels, cond_dim)

    def forward(self, x, y):
        h = F.relu(self.bn1(x, y))
        h = F.interpolate(h, scale_factor=2)
        x = F.interpolate(x, scale_factor=2)
        h = self.conv1(h)
        h = self.conv2(F.relu(self.bn2(h, y)))
        return h + self.conv_sc(x)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_slots = 3
        self.z_chunk_size = z_dim // self.num_slots + 1
        self.dim_z = self.z_chunk_size * self.num_slots
        self.shared = nn.Embedding(n_classes, shared_dim)
        self.linear = SN(nn.Linear(self.z_chunk_size, 4 * ch * 2 * 2))
        cond = shared_dim + self.z_chunk_size
        self.blocks = nn.ModuleList([GBlock(4 * ch, 2 * ch, cond), GBlock(2 * ch, ch, cond)])
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(ch), nn.ReLU(), SN(nn.Conv2d(ch, 3, 3, padding=1))
        )

    def forward(self, z, y):
        zs = torch.split(z, self.z_chunk_size, 1)
        z = zs[0]
        ys = [torch.cat([y, item], 1) for item in zs[1:]]
        h = self.linear(z).view(z.size(0), -1, 2, 2)
        for index, block in enumerate(self.blocks):
            h = block(h, ys[index])
        return torch.tanh(self.output_layer(h))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = SN(nn.Conv2d(3, ch, 3, padding=1))
        self.conv2 = SN(nn.Conv2d(ch, 2 * ch, 3, padding=1))
        self.linear = SN(nn.Linear(2 * ch, 1))
        self.embed = SN(nn.Embedding(n_classes, 2 * ch))

    def forward(self, x, y):
        h = F.avg_pool2d(F.relu(self.conv1(x)), 2)
        h = F.avg_pool2d(F.relu(self.conv2(h)), 2)
        h = torch.sum(F.relu(h), [2, 3])
        out = self.linear(h)
        return out + torch.sum(self.embed(y) * h, 1, keepdim=True)


def ortho(model, strength=1e-4, blacklist=[]):
    with torch.no_grad():
        for param in model.parameters():
            if len(param.shape) < 2 or any([param is item for item in blacklist]):
                continue
            w = param.view(param.shape[0], -1)
            grad = 2 * torch.mm(
                torch.mm(w, w.t()) * (1.0 - torch.eye(w.shape[0], device=w.device)), w
            )
            param.grad.data += strength * grad.view(param.shape)


def loss_hinge_dis(dis_fake, dis_real):
    return torch.mean(F.relu(1.0 - dis_real)), torch.mean(F.relu(1.0 + dis_fake))


def loss_hinge_gen(dis_fake):
    return -torch.mean(dis_fake)


# toy data: class c images are a colour ramp in channel c
base = torch.linspace(-0.8, 0.8, 8).view(1, 8).expand(8, 8)


def real_batch(b):
    y = torch.randint(0, n_classes, (b,))
    x = torch.full((b, 3, 8, 8), -0.8)
    x[torch.arange(b), y] = base
    return x + 0.05 * torch.randn_like(x), y


G, D = Generator(), Discriminator()
G_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-6)
D_opt = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.999), eps=1e-6)
d_losses, g_losses = [], []
for it in range(6):
    x, y = real_batch(8)
    z = torch.randn(8, G.dim_z)
    D_opt.zero_grad()
    with torch.no_grad():
        fake = G(z, G.shared(y))
    d_real, d_fake = loss_hinge_dis(D(fake, y), D(x, y))
    (d_real + d_fake).backward()
    D_opt.step()
    G_opt.zero_grad()
    z = torch.randn(8, G.dim_z)
    y_ = torch.randint(0, n_classes, (8,))
    g_loss = loss_hinge_gen(D(G(z, G.shared(y_)), y_))
    g_loss.backward()
    ortho(G, 1e-4, blacklist=[param for param in G.shared.parameters()])
    G_opt.step()
    d_losses.append((d_real.item(), d_fake.item()))
    g_losses.append(g_loss.item())

G.eval()
with torch.no_grad():
    sample = G(torch.randn(4, G.dim_z), G.shared(torch.tensor([0, 1, 2, 0])))
sample_range = (sample.min().item(), sample.max().item())
sample_shape = tuple(sample.shape)
stored = G.blocks[0].bn1.stored_mean[:4].tolist() + G.blocks[1].bn2.stored_var[:4].tolist()
sn_u = G.linear.weight_u[:4].tolist()
sigma_ratio = (torch.linalg.matrix_norm(D.linear.weight, 2) / 1.0).item()
state_keys = [k for k in G.state_dict() if k.startswith("blocks.0.bn1")]
z_chunks = [t.shape[1] for t in torch.split(torch.zeros(1, G.dim_z), G.z_chunk_size, 1)]
