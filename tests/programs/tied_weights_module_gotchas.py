"""Module semantics behind common surprises: tied weights (an embedding shared with the output
layer) counted once by ``parameters()`` but listed twice with ``remove_duplicate=False`` and
present under both keys in the ``state_dict``, still tied after ``copy.deepcopy`` and after
``load_state_dict``; ``tensor.to(dtype)`` returning a new tensor (the original unchanged) while
``module.to(dtype)`` converts in place and returns the same module; ``module.double()``
converting buffers too but not integer buffers; calling ``forward`` directly skipping hooks;
``named_modules`` listing a shared sub-module once; ``zero_grad`` on a tied parameter; and a
tiny tied language model trained a few steps, its two views of the weight staying equal."""

import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)


class TiedLM(nn.Module):
    def __init__(self, vocab=11, dim=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.head.weight = self.embed.weight  # tied
        self.register_buffer("position", torch.arange(4))
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, tokens):
        h = torch.tanh(self.mix(self.embed(tokens))) * self.scale
        return self.head(h)


model = TiedLM()
counts = [
    len(list(model.parameters())),
    len(list(model.named_parameters(remove_duplicate=False))),
    sum(p.numel() for p in model.parameters()),
    sorted(model.state_dict().keys()),
    model.state_dict()["head.weight"].data_ptr() == model.state_dict()["embed.weight"].data_ptr(),
]
twin = copy.deepcopy(model)
copies = [twin.head.weight is twin.embed.weight, twin.embed.weight is model.embed.weight]
fresh = TiedLM()
fresh.load_state_dict(model.state_dict())
loaded = [
    fresh.head.weight is fresh.embed.weight,
    torch.equal(fresh.embed.weight, model.embed.weight),
]

# .to on tensors returns a new tensor; on modules it converts in place.
t = torch.ones(2)
t.to(torch.float64)
same_module = model.to(torch.float64) is model
conversions = [
    str(t.dtype),
    same_module,
    str(model.embed.weight.dtype),
    str(model.scale.dtype),
    str(model.position.dtype),  # integer buffers keep their dtype
    model.head.weight is model.embed.weight,
]
model.float()

# forward() skips hooks; __call__ runs them.
calls = []
handle = model.mix.register_forward_hook(lambda mod, inp, out: calls.append(out.shape[-1]))
tokens = torch.tensor([[1, 2, 3, 4], [4, 3, 2, 1]])
model(tokens)
model.forward(tokens)  # the outer module's hooks are skipped, the inner __call__ still runs
model.mix.forward(torch.zeros(1, 6))  # skipped
handle.remove()
hook_calls = len(calls)

# A shared sub-module appears once in named_modules.
shared = nn.Linear(2, 2)
seq = nn.Sequential(shared, nn.ReLU(), shared)
module_names = [n for n, _ in seq.named_modules()]
shared_params = len(list(seq.parameters()))

# Train the tied model; the tied weight gets both gradients.
data = torch.randint(0, 11, (8, 5))
opt = torch.optim.Adam(model.parameters(), lr=0.05)
losses = []
for step in range(15):
    opt.zero_grad()
    logits = model(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 11), data[:, 1:].reshape(-1))
    loss.backward()
    opt.step()
    losses.append(loss.item())
tied_after = [
    model.head.weight is model.embed.weight,
    len(opt.param_groups[0]["params"]),
    model.embed.weight.grad.abs().sum().item(),
]
