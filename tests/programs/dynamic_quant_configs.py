"""``quantize_dynamic``'s configurations from the dynamic quantization recipes: the default
int8 per-tensor weights, per-channel weights (``per_channel_dynamic_qconfig``), float16
weights (``dtype=torch.float16``) and a ``qconfig_spec`` dict choosing layers by name, on a
small GRU + MLP tagger; the swapped module types, the weights each stores and the outputs'
distance from the float model."""

import torch
import torch.ao.quantization as tq
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 8)
        self.rnn = nn.GRU(8, 12, batch_first=True)
        self.hidden = nn.Linear(12, 16)
        self.out = nn.Linear(16, 5)

    def forward(self, tokens):
        h, _ = self.rnn(self.embed(tokens))
        return self.out(torch.relu(self.hidden(h)))


torch.manual_seed(4)
model = Tagger().eval()
tokens = torch.randint(0, 30, (3, 7))
with torch.no_grad():
    reference = model(tokens)

configs = {
    "int8": dict(qconfig_spec={nn.Linear, nn.GRU}, dtype=torch.qint8),
    "per_channel": dict(qconfig_spec={nn.Linear: tq.per_channel_dynamic_qconfig}),
    "float16": dict(qconfig_spec={nn.Linear, nn.GRU}, dtype=torch.float16),
    "by_name": dict(qconfig_spec={"out": tq.default_dynamic_qconfig}),
}
results = {}
for name, kwargs in configs.items():
    quantized = tq.quantize_dynamic(model, **kwargs)
    with torch.no_grad():
        out = quantized(tokens)
    results[name] = {
        "types": [type(m).__name__ for m in quantized.children()],
        "dynamic": [".dynamic" in type(m).__module__ for m in quantized.children()],
        "gap": (out - reference).abs().max().item(),
        "sample": out[0, :2].flatten().tolist(),
    }

per_channel = tq.quantize_dynamic(model, {nn.Linear: tq.per_channel_dynamic_qconfig})
hidden_weight = per_channel.hidden.weight()
qscheme = str(hidden_weight.qscheme()).split(".")[-1]
channel_scales = hidden_weight.q_per_channel_scales()[:4].tolist()
fp16 = tq.quantize_dynamic(model, {nn.Linear}, dtype=torch.float16)
fp16_dtype = str(fp16.out.weight().dtype).split(".")[-1]
