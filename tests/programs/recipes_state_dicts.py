"""PyTorch recipes on models and their state: "Zeroing out gradients" (accumulation without
zero_grad, then optimizer.zero_grad() and set_to_none), "Saving and loading multiple models in
one file" (a dict of state_dicts and optimizer states in one torch.save), "Warmstarting a
model using parameters from a different model" (load_state_dict(strict=False) reporting
missing and unexpected keys, and renaming keys), "Changing default device"
(torch.set_default_device / torch.device as a context manager), and
"what is a state_dict" (optimizer state_dict contents)."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


# What is a state_dict
net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
print("Model's state_dict:")
for param_tensor in net.state_dict():
    print(param_tensor, "\t", net.state_dict()[param_tensor].size())
inputs = torch.randn(4, 3, 32, 32)
labels = torch.randint(0, 10, (4,))
criterion = nn.CrossEntropyLoss()
criterion(net(inputs), labels).backward()
optimizer.step()
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])
opt_state_keys = sorted(optimizer.state_dict()["state"][0])

# Zeroing out gradients: without zero_grad the gradients accumulate
optimizer.zero_grad()
loss = criterion(net(inputs), labels)
loss.backward()
first = net.conv1.bias.grad.clone()
loss = criterion(net(inputs), labels)
loss.backward()
accumulated_ratio = (net.conv1.bias.grad / first).mean().item()  # twice the single gradient
optimizer.zero_grad(set_to_none=False)
zeroed = net.conv1.bias.grad is not None and net.conv1.bias.grad.abs().sum().item() == 0.0
optimizer.zero_grad()  # set_to_none=True by default
set_to_none = net.conv1.bias.grad is None

running_losses = []
for epoch in range(2):
    running_loss = 0.0
    for i in range(8):
        x = torch.randn(16, 3, 32, 32)
        y = (x.mean((1, 2, 3)) > 0).long()
        optimizer.zero_grad()
        outputs = net(x)
        loss = criterion(outputs, y)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    running_losses.append(running_loss / 8)
print("Finished Training", running_losses)

# Saving and loading multiple models in one file
netA, netB = Net(), Net()
optimizerA = optim.SGD(netA.parameters(), lr=0.001, momentum=0.9)
optimizerB = optim.SGD(netB.parameters(), lr=0.001, momentum=0.9)
criterion(netA(inputs), labels).backward()
optimizerA.step()
tmpdir = tempfile.mkdtemp()
PATH = os.path.join(tmpdir, "model.pt")
torch.save(
    {
        "modelA_state_dict": netA.state_dict(),
        "modelB_state_dict": netB.state_dict(),
        "optimizerA_state_dict": optimizerA.state_dict(),
        "optimizerB_state_dict": optimizerB.state_dict(),
    },
    PATH,
)
modelA, modelB = Net(), Net()
optimizerA2 = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
optimizerB2 = optim.SGD(modelB.parameters(), lr=0.001, momentum=0.9)
checkpoint = torch.load(PATH, weights_only=True)
modelA.load_state_dict(checkpoint["modelA_state_dict"])
modelB.load_state_dict(checkpoint["modelB_state_dict"])
optimizerA2.load_state_dict(checkpoint["optimizerA_state_dict"])
optimizerB2.load_state_dict(checkpoint["optimizerB_state_dict"])
modelA.eval()
modelB.train()
with torch.no_grad():
    multi_gap = (modelA(inputs) - netA(inputs)).abs().max().item()
momentum_restored = torch.equal(
    optimizerA2.state_dict()["state"][0]["momentum_buffer"],
    optimizerA.state_dict()["state"][0]["momentum_buffer"],
)


# Warmstarting model using parameters from a different model
class NetB(nn.Module):
    """Like Net, with a different head (fc3 -> 4 classes) and an extra layer."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.head = nn.Linear(84, 4)
        self.extra = nn.Linear(4, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.extra(self.head(F.relu(self.fc2(F.relu(self.fc1(x))))))


torch.save(netA.state_dict(), PATH)
netB = NetB()
result = netB.load_state_dict(torch.load(PATH, weights_only=True), strict=False)
print(result)
missing, unexpected = sorted(result.missing_keys), sorted(result.unexpected_keys)
warm_gap = (netB.conv1.weight - netA.conv1.weight).abs().max().item()
try:
    netB.load_state_dict(torch.load(PATH, weights_only=True))
    strict_error = None
except RuntimeError as e:
    strict_error = str(e)
# Renaming keys to load a layer under another name
state = torch.load(PATH, weights_only=True)
renamed = {k.replace("fc2", "head") if k.startswith("fc2") else k: v for k, v in state.items()}
shape_mismatch = None
try:
    netB.load_state_dict(renamed, strict=False)
except RuntimeError as e:
    shape_mismatch = str(e)  # head is (4, 84), fc2 was (84, 120)

# Changing the default device
torch.set_default_device("cpu")
default_device = str(torch.tensor([1.0]).device)
with torch.device("cpu"):
    ctx_device = str(nn.Linear(2, 2).weight.device)
torch.set_default_device(None)
