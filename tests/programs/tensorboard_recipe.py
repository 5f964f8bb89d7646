"""The "How to use TensorBoard with PyTorch" recipe and the TensorBoard tutorial's other calls:
SummaryWriter(log_dir) in a temporary directory, add_scalar in a training loop, add_scalars,
add_histogram of weights and gradients, add_image / add_images of a grid, add_text,
add_graph of the model, add_hparams, add_embedding with metadata, flush() and close(); the
event files are read back with TensorBoard's EventAccumulator."""

import os
import tempfile

import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter

torch.manual_seed(0)
log_dir = tempfile.mkdtemp()
writer = SummaryWriter(log_dir=os.path.join(log_dir, "linear"))

x = torch.arange(-5, 5, 0.1).view(-1, 1)
y = -5 * x + 0.1 * torch.randn(x.size())

model = torch.nn.Linear(1, 1)
criterion = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train_model(iter):
    losses = []
    for epoch in range(iter):
        y1 = model(x)
        loss = criterion(y1, y)
        writer.add_scalar("Loss/train", loss, epoch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        writer.add_histogram("weights", model.weight, epoch)
        writer.add_histogram("grad/weight", model.weight.grad, epoch)
    return losses


losses = train_model(10)
writer.flush()

for n_iter in range(5):
    writer.add_scalars(
        "run_14h",
        {"xsinx": n_iter * torch.sin(torch.tensor(n_iter / 5.0)), "xcosx": n_iter * 1.0},
        n_iter,
    )

images = torch.rand(8, 1, 8, 8)
writer.add_images("my_images", images, 0)
writer.add_image("one_image", images[0], 0)
writer.add_text("notes", "a linear model fitted to y = -5x", 0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


net = Net()
writer.add_graph(net, torch.randn(3, 4))
features = torch.randn(20, 5)
writer.add_embedding(
    features, metadata=[f"point {i}" for i in range(20)], global_step=0, tag="points"
)
writer.add_hparams({"lr": 0.1, "bsize": 100}, {"hparam/loss": losses[-1]})
writer.close()

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

run_dir = os.path.join(log_dir, "linear")
acc = EventAccumulator(run_dir, size_guidance={"scalars": 0, "histograms": 0, "images": 0})
acc.Reload()
tags = acc.Tags()
loss_events = acc.Scalars("Loss/train")
logged_losses = [e.value for e in loss_events]
steps = [e.step for e in loss_events]
histogram_count = len(acc.Histograms("weights"))
image_tags = sorted(tags["images"])
subdirs = sorted(os.listdir(run_dir))
print(f"scalar tags {sorted(tags['scalars'])}, images {image_tags}, run files {len(subdirs)}")
