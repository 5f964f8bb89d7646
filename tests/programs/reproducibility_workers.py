"""The "Reproducibility" note and the DataLoader's "Randomness in multi-process data loading",
as written for PyTorch: ``torch.manual_seed`` repeating a model's initialization and a
dropout mask, ``torch.use_deterministic_algorithms`` with its query functions and
``warn_only`` mode, and the note's ``seed_worker`` + ``generator=g`` recipe for a
``DataLoader`` whose two worker processes draw ``torch.rand``, NumPy and ``random``
augmentations: each worker's ``torch.initial_seed()`` is ``base_seed + worker_id`` and NumPy
differs between workers, with and without ``worker_init_fn``."""

import random

import numpy
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, get_worker_info

# Controlling sources of randomness.
torch.manual_seed(0)
init_a = nn.Linear(3, 2).weight.detach().clone()
torch.manual_seed(0)
init_b = nn.Linear(3, 2).weight.detach().clone()
same_init = torch.equal(init_a, init_b)
init_sample = init_a.flatten().tolist()
torch.manual_seed(1)
mask_a = nn.functional.dropout(torch.ones(8), 0.5)
torch.manual_seed(1)
mask_b = nn.functional.dropout(torch.ones(8), 0.5)
dropout_masks = [mask_a.tolist(), torch.equal(mask_a, mask_b)]
initial = torch.initial_seed()

# Deterministic algorithms: flags and warn_only.
det_flags = [torch.are_deterministic_algorithms_enabled()]
torch.use_deterministic_algorithms(True)
det_flags.append(torch.are_deterministic_algorithms_enabled())
det_flags.append(torch.is_deterministic_algorithms_warn_only_enabled())
torch.use_deterministic_algorithms(True, warn_only=True)
det_flags.append(torch.is_deterministic_algorithms_warn_only_enabled())
deterministic_sum = torch.zeros(5).index_add_(0, torch.tensor([0, 0, 2]), torch.ones(3)).tolist()
torch.use_deterministic_algorithms(False)
det_flags.append(torch.are_deterministic_algorithms_enabled())
try:
    torch.use_deterministic_algorithms("yes")
    det_type_error = None
except TypeError as e:
    det_type_error = type(e).__name__


# DataLoader workers.
class NoisyDataset(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        info = get_worker_info()
        return {
            "index": index,
            "worker": info.id if info is not None else -1,
            "torch_noise": torch.rand(1).item(),
            "numpy_noise": float(numpy.random.rand()),
            "random_noise": random.random(),
            "seed": torch.initial_seed(),
        }


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**32
    numpy.random.seed(worker_seed)
    random.seed(worker_seed)


def collect(loader):
    out = []
    for batch in loader:
        out.append(
            [
                batch[k].tolist()
                for k in ("index", "worker", "torch_noise", "numpy_noise", "random_noise", "seed")
            ]
        )
    return out


g = torch.Generator()
g.manual_seed(0)
loader = DataLoader(
    NoisyDataset(), batch_size=2, num_workers=2, worker_init_fn=seed_worker, generator=g
)
run_one = collect(loader)
worker_seeds = sorted({row for batch in run_one for row in batch[5]})
workers_used = sorted({w for batch in run_one for w in batch[1]})
numpy_distinct = len({x for batch in run_one for x in batch[3]}) == 8

# The default: without worker_init_fn, torch seeds NumPy per worker too (no duplicates).
g.manual_seed(0)
default_run = collect(DataLoader(NoisyDataset(), batch_size=2, num_workers=2, generator=g))
default_torch_noise = [x for batch in default_run for x in batch[2]]
default_numpy_distinct = len({x for batch in default_run for x in batch[3]}) == 8
