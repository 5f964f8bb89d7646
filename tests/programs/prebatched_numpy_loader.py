"""A NumPy-first input pipeline: the dataset itself returns whole batches as NumPy arrays (a
dict of features and labels, as pre-batched record readers do), so the DataLoader runs with
``batch_size=None`` and its default conversion turns each batch's arrays into tensors (strings
left alone); a second model is built with ``to_empty(device='cpu')`` (allocation without
initialization) and filled from the first one's ``state_dict``, then both evaluate alike."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy
from torch.utils.data import DataLoader, Dataset, default_convert

rng = np.random.default_rng(20)
features = rng.standard_normal((96, 5)).astype(np.float32)
labels = (features @ np.array([1.0, -1.0, 0.5, 0.0, 2.0]) > 0).astype(np.int64)


class PreBatched(Dataset):
    def __init__(self, batch_size):
        self.batch_size = batch_size

    def __len__(self):
        return len(features) // self.batch_size

    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return {"x": features[rows], "y": labels[rows], "source": f"shard-{i}", "id": np.int64(i)}


loader = DataLoader(PreBatched(16), batch_size=None, shuffle=False)
first = next(iter(loader))
converted_types = sorted((k, type(v).__name__) for k, v in first.items())
converted_dtypes = [str(first["x"].dtype).split(".")[-1], str(first["y"].dtype).split(".")[-1]]
tuple_to_list = type(default_convert((np.zeros(2), "a"))).__name__

model = init_from_numpy(nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2)), seed=13)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
losses = []
for epoch in range(4):
    for batch in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(batch["x"]), batch["y"])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

shell = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2)).to_empty(device="cpu")
shapes_kept = [tuple(p.shape) for p in shell.parameters()] == [
    tuple(p.shape) for p in model.parameters()
]
shell.load_state_dict(model.state_dict())
with torch.no_grad():
    x_all = torch.from_numpy(features)
    agreement = (shell(x_all) - model(x_all)).abs().max().item()
    accuracy = model(x_all).argmax(1).eq(torch.from_numpy(labels)).float().mean().item()
