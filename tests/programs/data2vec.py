"""data2vec (Baevski et al.), as fairseq's ``data2vec`` text/audio models build it: a student
Transformer encoder over masked inputs (a learned mask embedding swapped in with
``torch.where``), an EMA teacher (``copy.deepcopy``, ``requires_grad_(False)``, the fairseq
``EMAModule`` update ``ema_param.mul_(decay).add_(param, alpha=1 - decay)`` with a linearly
annealed decay), targets built from the teacher's top-K block outputs collected by forward
hooks, each ``F.instance_norm`` -ed over time (on ``transpose(1, 2)``), averaged, then
``F.layer_norm`` -ed; a regression head and smooth-L1 loss on the masked positions only
(boolean-mask indexing), with AdamW and gradient clipping."""

import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)

D, T, B, VOCAB, TOP_K = 16, 10, 8, 12, 2


class Encoder(nn.Module):
    def __init__(self, layers=3):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.randn(1, T, D) * 0.02)
        self.mask_emb = nn.Parameter(torch.zeros(D).uniform_())
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(D, 2, 32, dropout=0.0, batch_first=True, norm_first=False)
            for _ in range(layers)
        )

    def forward(self, tokens, mask=None):
        x = self.embed(tokens)
        if mask is not None:
            x = torch.where(mask.unsqueeze(-1), self.mask_emb.to(x.dtype), x)
        x = x + self.pos
        for layer in self.layers:
            x = layer(x)
        return x


class EMAModule:
    def __init__(self, model, decay):
        self.model = copy.deepcopy(model)
        self.model.requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def step(self, new_model):
        ema_params = dict(self.model.named_parameters())
        for name, param in new_model.named_parameters():
            ema_params[name].mul_(self.decay).add_(param.detach(), alpha=1 - self.decay)


def get_annealed_rate(start, end, curr_step, total_steps):
    r = end - start
    pct_remaining = 1 - curr_step / total_steps
    return end - r * pct_remaining


def make_mask(batch, length, prob, gen):
    scores = torch.rand(batch, length, generator=gen)
    num = max(1, int(prob * length))
    idx = scores.argsort(dim=1)[:, :num]
    return torch.zeros(batch, length, dtype=torch.bool).scatter_(1, idx, True)


student = Encoder()
head = nn.Linear(D, D)
ema = EMAModule(student, decay=0.9)
layer_outputs = []
hooks = [
    blk.register_forward_hook(lambda mod, inp, out: layer_outputs.append(out))
    for blk in ema.model.layers
]
optimizer = torch.optim.AdamW(
    list(student.parameters()) + list(head.parameters()), lr=2e-3, betas=(0.9, 0.98), eps=1e-6
)
gen = torch.Generator().manual_seed(3)
# sequences with structure: token t+1 = (token t + step) mod VOCAB
starts = torch.randint(0, VOCAB, (64, 1), generator=gen)
steps_ = torch.randint(1, 3, (64, 1), generator=gen)
corpus = (starts + steps_ * torch.arange(T)) % VOCAB

total, decays, losses, target_stats = 30, [], [], []
for step in range(total):
    batch = corpus[torch.randint(0, 64, (B,), generator=gen)]
    mask = make_mask(B, T, 0.4, gen)
    x = student(batch, mask)
    layer_outputs.clear()
    with torch.no_grad():
        ema.model.eval()
        ema.model(batch)
        y = layer_outputs[-TOP_K:]
        y = [F.instance_norm(tl.float().transpose(1, 2)).transpose(1, 2) for tl in y]
        y = sum(y) / len(y)
        y = F.layer_norm(y.float(), y.shape[-1:])
        y = y[mask]
    x = head(x[mask])
    loss = F.smooth_l1_loss(x.float(), y, reduction="none", beta=0.25).sum(dim=-1)
    sample_size = loss.numel()
    loss = loss.sum() / sample_size
    optimizer.zero_grad()
    loss.backward()
    grad_norm = nn.utils.clip_grad_norm_(student.parameters(), 1.0)
    optimizer.step()
    ema.decay = get_annealed_rate(0.9, 0.999, step + 1, total)
    ema.step(student)
    decays.append(ema.decay)
    losses.append(loss.item())
    target_stats.append((y.mean().item(), y.var().item(), tuple(y.shape)))

for h in hooks:
    h.remove()
teacher_trainable = sum(p.requires_grad for p in ema.model.parameters())
hook_count_after = len(ema.model.layers[0]._forward_hooks)
drift = sum((a - b).abs().sum() for a, b in zip(student.parameters(), ema.model.parameters()))
drift = drift.item()
