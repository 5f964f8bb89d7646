"""The eager-mode Numeric Suite tutorial: after static quantization of a small CNN, compare
each quantized layer's weights with the float ones (``compare_weights``) and each layer's
outputs on the same batch (``compare_model_outputs``), measuring the loss as SQNR in dB
(``compute_sqnr``), to find the layer quantization hurts most."""

import copy

import torch
import torch.ao.ns._numeric_suite as ns
import torch.ao.quantization as tq
import torch.nn as nn
from torch.ao.ns.fx.utils import compute_sqnr

torch.backends.quantized.engine = "x86"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(6 * 4 * 4, 5)

    def forward(self, x):
        x = self.relu1(self.conv1(self.quant(x)))
        x = self.relu2(self.conv2(x))
        return self.dequant(self.fc(torch.flatten(x, 1)))


torch.manual_seed(13)
float_model = Net().eval()
images = torch.randn(16, 1, 8, 8)
qmodel = copy.deepcopy(float_model)
qmodel = tq.fuse_modules(qmodel, [["conv1", "relu1"], ["conv2", "relu2"]])
qmodel.qconfig = tq.get_default_qconfig("x86")
tq.prepare(qmodel, inplace=True)
with torch.no_grad():
    qmodel(images)
tq.convert(qmodel, inplace=True)

wt_compare_dict = ns.compare_weights(float_model.state_dict(), qmodel.state_dict())
weight_keys = sorted(wt_compare_dict)
weight_sqnr = {
    key: compute_sqnr(pair["float"], pair["quantized"].dequantize()).item()
    for key, pair in wt_compare_dict.items()
}
weight_dtypes = sorted({str(p["quantized"].dtype).split(".")[-1] for p in wt_compare_dict.values()})

with torch.no_grad():
    act_compare_dict = ns.compare_model_outputs(float_model, qmodel, images)
act_keys = sorted(act_compare_dict)
act_sqnr = {}
for key, pair in act_compare_dict.items():
    quantized = pair["quantized"][0]
    quantized = quantized.dequantize() if quantized.is_quantized else quantized
    act_sqnr[key] = compute_sqnr(pair["float"][0], quantized).item()
worst = min(act_sqnr, key=act_sqnr.get)
