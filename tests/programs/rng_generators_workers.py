"""Random-number plumbing of training code: ``torch.random.fork_rng`` around an evaluation that
samples (with ``enabled=False`` it does not protect), explicit ``torch.Generator`` objects with
``manual_seed``/``seed``/``initial_seed``, ``get_state()``/``set_state()`` replaying a stream
and ``clone_state``-style copies by state, ``torch.randn``/``randint``/``randperm``/
``multinomial``/``bernoulli``/``normal``/``rand_like``/``randint_like``/``Tensor.random_``/
``uniform_`` each with a ``generator=``, and a ``DataLoader`` with ``num_workers=2``, ``generator=`` and a
``worker_init_fn`` that seeds NumPy and ``random`` from ``torch.initial_seed()`` (the
``seed_worker`` recipe), checked to give the same batches on a second run and different
augmentation streams per worker."""

import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


class Augmented(Dataset):
    def __init__(self, n):
        self.data = torch.arange(n, dtype=torch.float32)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        info = get_worker_info()
        wid = -1 if info is None else info.id
        jitter = float(np.random.uniform(-0.5, 0.5))
        flip = random.random() < 0.5
        return self.data[i] + jitter, torch.tensor(flip), torch.tensor(wid)


# fork_rng: sampling inside does not move the global stream
torch.manual_seed(0)
before = torch.get_rng_state()
with torch.random.fork_rng(devices=[]):  # CPU only: no GPU generators to fork
    torch.randn(100)
after_fork = torch.rand(3).tolist()
torch.set_rng_state(before)
expected = torch.rand(3).tolist()
forked_kept = after_fork == expected
torch.set_rng_state(before)
with torch.random.fork_rng(enabled=False):
    torch.randn(100)
not_protected = torch.rand(3).tolist() != expected
state_shape = (tuple(before.shape), str(before.dtype))

# explicit generators
g = torch.Generator().manual_seed(1234)
seed_reported = g.initial_seed()
s0 = g.get_state()
draws = {
    "randn": torch.randn(2, 3, generator=g).tolist(),
    "randint": torch.randint(0, 10, (5,), generator=g).tolist(),
    "randperm": torch.randperm(7, generator=g).tolist(),
    "multinomial": torch.multinomial(
        torch.tensor([0.1, 0.2, 0.7]), 4, replacement=True, generator=g
    ).tolist(),
    "bernoulli": torch.bernoulli(torch.full((6,), 0.3), generator=g).tolist(),
    "normal": torch.normal(2.0, 3.0, size=(3,), generator=g).tolist(),
    "random_": torch.empty(4, dtype=torch.int64).random_(0, 100, generator=g).tolist(),
    "uniform_": torch.empty(3).uniform_(-1, 1, generator=g).tolist(),
    "exponential_": torch.empty(3).exponential_(2.0, generator=g).tolist(),
    "rand_like": torch.rand_like(torch.zeros(2, 2), generator=g).tolist(),
    "randint_like": torch.randint_like(torch.zeros(4), 3, 9, generator=g).tolist(),
}
g.set_state(s0)
replayed = torch.randn(2, 3, generator=g).tolist() == draws["randn"]
g2 = torch.Generator()
g2.set_state(g.get_state())  # a copy of the stream
copy_agrees = torch.rand(4, generator=g2).tolist() == torch.rand(4, generator=g).tolist()

# seed() gives a fresh non-deterministic seed; initial_seed reports it
g3 = torch.Generator()
new_seed = g3.seed()
seed_roundtrip = g3.initial_seed() == new_seed
default_initial = torch.Generator().initial_seed()


# DataLoader with workers: the same generator seed gives the same order and augmentations
def run_loader(seed, workers):
    g = torch.Generator()
    g.manual_seed(seed)
    loader = DataLoader(
        Augmented(12),
        batch_size=3,
        shuffle=True,
        num_workers=workers,
        worker_init_fn=seed_worker,
        generator=g,
    )
    values, flips, wids = [], [], []
    for x, f, w in loader:
        values.append(x.tolist())
        flips.append(f.tolist())
        wids.append(w.tolist())
    return values, flips, wids


v1, f1, w1 = run_loader(0, 2)
v2, f2, w2 = run_loader(0, 2)
v3, _, _ = run_loader(1, 0)  # the order depends on the generator only
same_run = (v1 == v2, f1 == f2)
order = [sorted(round(x) for x in batch) for batch in v1]
order_other_seed = [sorted(round(x) for x in batch) for batch in v3]
worker_ids = w1
jitters = [[x - round(x) for x in batch] for batch in v1]
# batches 0 and 1 come from workers 0 and 1: their NumPy streams differ
workers_differ = jitters[0] != jitters[1]
in_main = run_loader(0, 0)[2]
order_main = [sorted(round(x) for x in batch) for batch in run_loader(0, 0)[0]]
