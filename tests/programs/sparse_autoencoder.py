"""A TopK sparse autoencoder for interpretability (Gao et al. 2024, openai/sparse_autoencoder and
the SAELens-style trainers): a pre-encoder bias, ``torch.topk`` over the latent
pre-activations with ReLU, the sparse code rebuilt with ``torch.zeros_like(...).scatter_`` of the
kept values (so gradients reach only the chosen latents), decoder columns kept at unit norm under
``torch.no_grad`` and the gradient component parallel to each column removed before the step
(``torch.einsum``), dead-latent statistics with in-place integer updates, and the AuxK loss that
reconstructs the residual from the top dead latents; trained with Adam on activations built
from a known sparse dictionary, which it should recover."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
D_MODEL, N_LATENTS, K, AUX_K, DEAD_AFTER = 16, 48, 4, 8, 4


class TopKSAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre_bias = nn.Parameter(torch.zeros(D_MODEL))
        self.encoder = nn.Linear(D_MODEL, N_LATENTS, bias=False)
        self.latent_bias = nn.Parameter(torch.zeros(N_LATENTS))
        self.decoder = nn.Linear(N_LATENTS, D_MODEL, bias=False)
        self.decoder.weight.data = self.encoder.weight.data.T.clone()
        unit_norm_decoder_(self)
        self.register_buffer("stats_last_nonzero", torch.zeros(N_LATENTS, dtype=torch.long))

    def encode_pre_act(self, x):
        return self.encoder(x - self.pre_bias) + self.latent_bias

    def topk_code(self, pre, k):
        top = torch.topk(pre, k, dim=-1)
        return torch.zeros_like(pre).scatter_(-1, top.indices, F.relu(top.values))

    def forward(self, x):
        pre = self.encode_pre_act(x)
        latents = self.topk_code(pre, K)
        self.stats_last_nonzero *= (latents == 0).all(dim=0).long()
        self.stats_last_nonzero += 1
        dead = self.stats_last_nonzero > DEAD_AFTER
        aux = self.topk_code(pre.masked_fill(~dead, float("-inf")), AUX_K) if dead.any() else None
        return latents, self.decoder(latents) + self.pre_bias, aux


def unit_norm_decoder_(model):
    model.decoder.weight.data /= model.decoder.weight.data.norm(dim=0)


def unit_norm_decoder_grad_adjustment_(model):
    w, grad = model.decoder.weight.data, model.decoder.weight.grad
    parallel = torch.einsum("dl,dl->l", grad, w)
    model.decoder.weight.grad -= torch.einsum("l,dl->dl", parallel, w)


def normalized_mse(recon, x):
    return ((recon - x) ** 2).mean(dim=1) / (x**2).mean(dim=1)


true_dict = F.normalize(torch.randn(32, D_MODEL), dim=1)


def sample_activations(n):
    codes = torch.zeros(n, 32)
    idx = torch.randint(0, 32, (n, 3))
    codes.scatter_(1, idx, torch.rand(n, 3) * 2 + 0.5)
    return codes @ true_dict + 0.01 * torch.randn(n, D_MODEL)


model = TopKSAE()
with torch.no_grad():
    model.pre_bias.copy_(torch.median(sample_activations(256), dim=0).values)  # geometric median
optimizer = torch.optim.Adam(model.parameters(), lr=4e-3, eps=6.25e-10)
history = {"mse": [], "aux": [], "dead": []}
for step in range(30):
    x = sample_activations(16)
    latents, recon, aux_latents = model(x)
    loss = normalized_mse(recon, x).mean()
    aux_loss = torch.tensor(0.0)
    if aux_latents is not None:  # the dead latents try to explain what the live ones missed
        residual = (x - recon).detach()
        aux_recon = model.decoder(aux_latents)
        aux_loss = normalized_mse(aux_recon, residual).nan_to_num(0).mean()
    optimizer.zero_grad()
    (loss + 1 / 32 * aux_loss).backward()
    unit_norm_decoder_grad_adjustment_(model)
    optimizer.step()
    unit_norm_decoder_(model)
    history["mse"].append(loss.item())
    history["aux"].append(aux_loss.item())
    history["dead"].append(int((model.stats_last_nonzero > DEAD_AFTER).sum()))

with torch.no_grad():
    x = sample_activations(128)
    latents, recon, _ = model(x)
    fraction_explained = 1 - ((recon - x) ** 2).sum().item() / ((x - x.mean(0)) ** 2).sum().item()
    l0 = (latents > 0).float().sum(-1).mean().item()
    similarity = true_dict @ model.decoder.weight  # (true atoms, latents), unit vectors
    recovered = similarity.max(dim=1).values.tolist()
    column_norms = model.decoder.weight.norm(dim=0)[:5].tolist()
print(f"nmse {history['mse'][0]:.3f} -> {history['mse'][-1]:.3f}, L0 {l0}, explained")
print(f"{fraction_explained:.3f}, mean recovery {sum(recovered) / len(recovered):.3f}")
