"""Seeded data loading as the reproducibility notes write it: ``torch.Generator`` objects
given to ``DataLoader(shuffle=True, generator=g)``, ``random_split``, ``RandomSampler``,
``SubsetRandomSampler``, ``WeightedRandomSampler``, ``randperm`` and ``multinomial``; the
``seed_worker`` ``worker_init_fn`` with ``torch.initial_seed()`` in two persistent workers and
NumPy augmentation seeded from it; a generator's ``get_state``/``set_state`` replaying an
epoch's order; the global stream left untouched by draws from private generators, and an
unseeded ``Generator()`` starting from PyTorch's fixed default seed."""

import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import (
    DataLoader,
    Dataset,
    RandomSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


class Jittered(Dataset):
    """Points with NumPy jitter drawn in the worker (so the worker's seeding shows)."""

    def __init__(self, n):
        g = torch.Generator().manual_seed(7)
        self.x = torch.randn(n, 4, generator=g)
        self.y = (self.x[:, 0] * self.x[:, 1] > 0).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        noise = np.random.normal(0.0, 0.01, size=4).astype(np.float32)
        info = torch.utils.data.get_worker_info()
        return self.x[i] + torch.from_numpy(noise), self.y[i], -1 if info is None else info.id


torch.manual_seed(0)
global_before = torch.get_rng_state()
g = torch.Generator()
g.manual_seed(2024)
perm = torch.randperm(10, generator=g).tolist()
probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
draws = torch.multinomial(probs, 6, replacement=True, generator=g).tolist()
uniform = [round(v, 6) for v in torch.rand(3, generator=g).tolist()]
global_untouched = torch.equal(global_before, torch.get_rng_state())
unseeded = torch.Generator()  # PyTorch's default seed: the same numbers in every process
unseeded_info = [unseeded.initial_seed(), torch.randint(0, 100, (4,), generator=unseeded).tolist()]

full = TensorDataset(torch.arange(20).float().unsqueeze(1), torch.arange(20))
train_part, val_part = random_split(full, [0.75, 0.25], generator=torch.Generator().manual_seed(42))
split_indices = [sorted(train_part.indices), sorted(val_part.indices)]
sampler_orders = {
    "random": list(RandomSampler(range(8), generator=torch.Generator().manual_seed(1))),
    "replacement": list(
        RandomSampler(
            range(8), replacement=True, num_samples=5, generator=torch.Generator().manual_seed(1)
        )
    ),
    "subset": list(SubsetRandomSampler([3, 5, 7, 9], generator=torch.Generator().manual_seed(2))),
    "weighted": list(
        WeightedRandomSampler([0.1, 0.9, 0.5, 0.5], 6, generator=torch.Generator().manual_seed(3))
    ),
}

loader_gen = torch.Generator()
loader_gen.manual_seed(0)
loader = DataLoader(full, batch_size=5, shuffle=True, generator=loader_gen)
state = loader_gen.get_state()
epoch_a = [b[1].tolist() for b in loader]
loader_gen.set_state(state)
epoch_b = [b[1].tolist() for b in loader]
epoch_c = [b[1].tolist() for b in loader]
initial_seed = loader_gen.initial_seed()

data = Jittered(48)
worker_gen = torch.Generator().manual_seed(0)
workers = DataLoader(
    data,
    batch_size=8,
    shuffle=True,
    num_workers=2,
    persistent_workers=True,
    worker_init_fn=seed_worker,
    generator=worker_gen,
)
torch.manual_seed(11)
model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.3)
losses, worker_ids, first_rows = [], [], []
for epoch in range(2):
    for x, y, wid in workers:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        worker_ids.append(wid.tolist())
        first_rows.append([round(v, 5) for v in x[0].tolist()])
