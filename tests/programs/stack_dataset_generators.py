"""Reproducible data loading as current PyTorch code writes it: a multimodal ``StackDataset``
(keyword form giving dict samples, positional form giving tuples) over ``TensorDataset`` parts,
``random_split`` with its own ``torch.Generator().manual_seed(42)``, a DataLoader per split
with its own generator (``shuffle=True``) so that each loader's order is independent of the
global seed and of the other loaders, ``torch.utils.data.default_collate`` on dict samples,
a generator's ``get_state``/``set_state`` to replay an epoch, ``RandomSampler(replacement=True,
num_samples=...)`` and ``BatchSampler`` with generators; a small two-input model trains on it."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    StackDataset,
    TensorDataset,
    default_collate,
    random_split,
)

torch.manual_seed(0)
N = 40
images = torch.randn(N, 3, 4, 4)
tokens = torch.randint(0, 20, (N, 6))
labels = (images.mean(dim=(1, 2, 3)) > 0).long()

dataset = StackDataset(image=TensorDataset(images), text=tokens, label=labels)
pairs = StackDataset(images, labels)
sample_keys = sorted(dataset[3].keys())
pair_shapes = [tuple(t.shape) for t in pairs[3]]
lengths = (len(dataset), len(pairs))

split_gen = torch.Generator().manual_seed(42)
train_set, val_set = random_split(dataset, [0.75, 0.25], generator=split_gen)
split_sizes = (len(train_set), len(val_set))
val_indices = list(val_set.indices)

train_gen = torch.Generator()
train_gen.manual_seed(7)
train_loader = DataLoader(train_set, batch_size=8, shuffle=True, generator=train_gen)
val_loader = DataLoader(val_set, batch_size=5, shuffle=False)

first_batch = next(iter(train_loader))
batch_structure = {
    key: tuple(value[0].shape) if isinstance(value, list) else tuple(value.shape)
    for key, value in first_batch.items()
}

saved_state = train_gen.get_state()
epoch_a = [batch["label"].tolist() for batch in train_loader]
torch.manual_seed(123)  # the global seed does not touch the loader's own generator
train_gen.set_state(saved_state)
epoch_b = [batch["label"].tolist() for batch in train_loader]
replayed = epoch_a == epoch_b

collated = default_collate([dataset[i] for i in range(3)])
collated_info = (sorted(collated.keys()), tuple(collated["text"].shape), collated["label"].tolist())

sampler = RandomSampler(
    range(N), replacement=True, num_samples=10, generator=torch.Generator().manual_seed(3)
)
drawn = list(sampler)
batches = list(
    BatchSampler(
        RandomSampler(range(10), generator=torch.Generator().manual_seed(5)),
        batch_size=4,
        drop_last=False,
    )
)


class ImageText(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.embed = nn.EmbeddingBag(20, 4, mode="mean")
        self.head = nn.Linear(8, 2)

    def forward(self, image, text):
        a = F.adaptive_avg_pool2d(F.relu(self.conv(image)), 1).flatten(1)
        return self.head(torch.cat([a, self.embed(text)], dim=1))


model = ImageText()
opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
train_gen.manual_seed(7)
losses = []
for epoch in range(3):
    total = 0.0
    for batch in train_loader:
        (image,) = batch["image"]
        loss = F.cross_entropy(model(image, batch["text"]), batch["label"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(batch["label"])
    losses.append(total / len(train_set))
    print(f"epoch {epoch}: train loss {losses[-1]:.4f}")

model.eval()
with torch.no_grad():
    correct = sum(
        (model(b["image"][0], b["text"]).argmax(1) == b["label"]).sum().item() for b in val_loader
    )
val_accuracy = correct / len(val_set)
print(f"val accuracy {val_accuracy:.3f}")
