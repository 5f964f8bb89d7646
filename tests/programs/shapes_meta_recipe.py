"""Two recipes on model structure, as written for PyTorch. "Reasoning about Shapes in
PyTorch": a Conv2d and its input made on the ``meta`` device (no data, any size: a 2**10 x 3 x
2**16 x 2**16 batch costs nothing), the meta output's repr, its shape checked against a CPU
run, and a LeNet built inside ``with torch.device("meta")`` whose layers get a forward hook
printing ``f"Shape of output to {module} is {output.shape}."``. "Defining a Neural Network in
PyTorch": the MNIST Net with ``Dropout2d`` layers (the second one fed a flattened 2-D
batch, which PyTorch warns about and drops elementwise, its feature dropout of an (N, C)
input), ``F.max_pool2d``, ``torch.flatten`` and ``log_softmax``, run in train and eval mode."""

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

t = torch.rand(2, 3, 10, 10, device="meta")
conv = torch.nn.Conv2d(3, 5, 2, device="meta")
out = conv(t)
meta_repr = repr(out)
t_large = torch.rand(2**10, 3, 2**16, 2**16, device="meta")
large_shape = tuple(conv(t_large).shape)
large_device = str(conv(t_large).device)

t = torch.rand(2, 3, 10, 10, device="cpu")
conv = torch.nn.Conv2d(3, 5, 2, device="cpu")
cpu_out = conv(t)
t = torch.rand(2, 3, 10, 10, device="meta")
conv = torch.nn.Conv2d(3, 5, 2, device="meta")
meta_out = conv(t)
assert cpu_out.shape == meta_out.shape
weight_is_meta = conv.weight.is_meta


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


hook_lines = []


def fw_hook(module, input, output):
    hook_lines.append(f"Shape of output to {module} is {output.shape}.")


with torch.device("meta"):
    net = Net()
    inp = torch.randn((1024, 3, 32, 32))
for name, layer in net.named_modules():
    layer.register_forward_hook(fw_hook)
out = net(inp)
lenet_out = (tuple(out.shape), str(out.device), out.requires_grad)
meta_params = sum(p.numel() for p in net.parameters())


class MnistNet(nn.Module):
    def __init__(self):
        super(MnistNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(16 * 6 * 6, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


random_data = torch.rand((4, 1, 16, 16))
my_nn = MnistNet()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    result = my_nn(random_data)
dropout_warnings = sorted({str(w.message)[:60] for w in caught})
train_result = result.tolist()
h = torch.ones(6, 10)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    dropped = my_nn.dropout2(h)
dropped_mask = (dropped == 0).tolist()
kept_values = sorted(set(dropped.flatten().tolist()))
my_nn.eval()
eval_result = my_nn(random_data).tolist()
module_repr = repr(my_nn)
