"""The save/resume recipe of PyTorch's tutorials: a checkpoint dict with model, optimizer and
scheduler state loaded with weights_only=True, a whole model saved and loaded, TensorBoard
logging (scalars, histograms, the graph) and an ONNX export with dynamic_axes."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.tensorboard import SummaryWriter


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 2)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        return self.fc2(self.dropout(torch.relu(self.fc1(x))))


torch.manual_seed(0)
d = tempfile.mkdtemp()
writer = SummaryWriter(os.path.join(d, "runs"))
net = Net()
optimizer = optim.Adam(net.parameters(), lr=1e-2)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
X = torch.randn(256, 10)
Y = (X.sum(1) > 0).long()
criterion = nn.CrossEntropyLoss()
for epoch in range(10):
    optimizer.zero_grad()
    loss = criterion(net(X), Y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    writer.add_scalar("Loss/train", loss.item(), epoch)
    writer.add_histogram("fc1", net.fc1.weight, epoch)
writer.add_graph(net, X[:2])
writer.flush()
writer.close()
PATH = os.path.join(d, "model.pt")
torch.save(
    {
        "epoch": epoch,
        "model_state_dict": net.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "loss": loss,
    },
    PATH,
)
model = Net()
opt2 = optim.Adam(model.parameters(), lr=1e-2)
sch2 = optim.lr_scheduler.StepLR(opt2, step_size=5, gamma=0.5)
checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint["model_state_dict"])
opt2.load_state_dict(checkpoint["optimizer_state_dict"])
sch2.load_state_dict(checkpoint["scheduler"])
epoch = checkpoint["epoch"]
loss = checkpoint["loss"]
model.train()
print(epoch, loss, sch2.get_last_lr(), opt2.param_groups[0]["lr"])
torch.save(model, os.path.join(d, "whole.pt"))
m2 = torch.load(os.path.join(d, "whole.pt"), weights_only=False)
print(type(m2).__name__, torch.equal(m2.fc1.weight, model.fc1.weight))
# ONNX export
torch.onnx.export(
    model,
    (X[:1],),
    os.path.join(d, "m.onnx"),
    input_names=["x"],
    output_names=["y"],
    dynamic_axes={"x": {0: "batch"}},
)
files = sorted(os.listdir(d))
print(files)
