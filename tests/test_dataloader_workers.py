"""DataLoader worker processes: same batches as ``num_workers=0``, order, seeding, iterable
datasets, errors, timeouts, shutdown, persistent workers, ``spawn``, and PyTorch's behaviour."""

import gc
import multiprocessing
import os
import random
import signal
import sys
import time

import numpy as np
import pytest

import minigrad
from minigrad.utils import data
from minigrad.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info

# The datasets here are local classes, which only "fork" workers can use (Linux's default
# start method before Python 3.14); test_spawn_context covers the picklable case.
pytestmark = pytest.mark.skipif(
    sys.platform == "win32" or multiprocessing.get_context().get_start_method() != "fork",
    reason="needs fork as the default start method, and SIGALRM",
)


@pytest.fixture(autouse=True)
def no_hang_no_leftovers():
    """Fail a test that runs past 30 s instead of hanging the suite; after each test, no
    worker process may be left."""

    def expire(signum, frame):
        raise TimeoutError("test ran past 30 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    gc.collect()  # iterators kept alive by a caught exception's traceback
    assert multiprocessing.active_children() == []


def make_datasets(lib_data, lib):
    """Map-style and iterable-style dataset classes of ``lib_data`` (minigrad's or torch's)."""

    class Samples(lib_data.Dataset):
        """Sample i: a float tensor, a NumPy row, an int, and the id of the worker loading it."""

        def __init__(self, n=10, slow=None, fail_at=None):
            self.n, self.slow, self.fail_at = n, slow or {}, fail_at

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            if i == self.fail_at:
                raise ValueError(f"bad sample {i}")
            time.sleep(self.slow.get(i, 0.0))
            info = lib_data.get_worker_info()
            return {
                "x": lib.tensor([float(i), 2.0 * i]),
                "row": np.full(3, i, dtype=np.int64),
                "i": i,
                "worker": -1 if info is None else info.id,
            }

    class Stream(lib_data.IterableDataset):
        def __init__(self, n, shard):
            self.n, self.shard = n, shard

        def __iter__(self):
            info = lib_data.get_worker_info()
            if not self.shard or info is None:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))

    return Samples, Stream


Samples, Stream = make_datasets(data, minigrad)


def plain(batch):
    """A batch as nested Python values (comparable across runs and libraries)."""
    if isinstance(batch, dict):
        return {k: plain(v) for k, v in batch.items() if k != "worker"}
    if hasattr(batch, "tolist"):
        return batch.tolist()
    return batch


class SpawnSquares(Dataset):
    """Module level, so that ``spawn`` workers can unpickle it."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = get_worker_info()
        return minigrad.tensor(float(i * i)), info.id, info.seed


@pytest.mark.parametrize("workers", [1, 3])  # one worker; several, batches not a multiple
def test_same_batches_as_the_calling_process(workers):
    for options in (dict(batch_size=3), dict(batch_size=None), dict(batch_size=4, drop_last=True)):
        ref = [plain(b) for b in DataLoader(Samples(), **options)]
        got = [plain(b) for b in DataLoader(Samples(), num_workers=workers, **options)]
        assert got == ref
    x, y = minigrad.randn(20, 3), minigrad.arange(20)
    g = minigrad.Generator()
    results = []
    for n in (0, workers):
        g.manual_seed(7)
        loader = DataLoader(
            TensorDataset(x, y), batch_size=6, shuffle=True, generator=g, num_workers=n
        )
        results.append([(a.tolist(), b.tolist()) for _ in range(2) for a, b in loader])
    assert results[0] == results[1]
    assert sorted(sum((b for _, b in results[0][:4]), [])) == list(range(20))


def test_batches_alternate_between_workers_and_out_of_order_arrival():
    loader = DataLoader(Samples(10), batch_size=2, num_workers=3)
    assert [b["worker"].tolist() for b in loader] == [[w, w] for w in (0, 1, 2, 0, 1)]
    # Batch 0 is slow: in order it still comes first; with in_order=False it comes last.
    slow = Samples(8, slow={0: 0.5})
    ref = [plain(b) for b in DataLoader(slow, batch_size=2, num_workers=2)]
    assert [b["i"] for b in ref] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    got = [plain(b) for b in DataLoader(slow, batch_size=2, num_workers=2, in_order=False)]
    assert got[0]["i"] != [0, 1] and sorted(map(str, got)) == sorted(map(str, ref))


def test_worker_info_and_worker_init_fn():
    assert get_worker_info() is None and data.get_worker_info() is None

    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 2
        info.dataset.n = 4 + worker_id  # each worker configures its own copy

    class Report(Dataset):
        n = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            with pytest.raises(RuntimeError, match="Cannot assign"):
                info.id = 5
            return [info.id, info.num_workers, self.n, info.dataset is self]

    got = list(DataLoader(Report(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert got == [[0, 2, 4, True], [1, 2, 5, True], [0, 2, 4, True], [1, 2, 5, True]]
    assert get_worker_info() is None


def test_iterable_dataset_per_worker_copies():
    sharded = DataLoader(Stream(10, shard=True), batch_size=2, num_workers=3)
    batches = [b.tolist() for b in sharded]
    assert sorted(sum(batches, [])) == list(range(10))
    # Round-robin: worker 0 yields 0,3,6,9; worker 1 yields 1,4,7; worker 2 yields 2,5,8.
    assert batches == [[0, 3], [1, 4], [2, 5], [6, 9], [7], [8]]
    duplicated = [
        b.tolist() for b in DataLoader(Stream(3, shard=False), batch_size=2, num_workers=2)
    ]
    assert duplicated == [[0, 1], [0, 1], [2], [2]]


def test_worker_exception_is_raised_with_worker_id_and_traceback():
    loader = DataLoader(Samples(fail_at=3), batch_size=None, num_workers=2)
    it = iter(loader)
    assert [next(it)["i"] for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 1") as e:
        next(it)
    assert "bad sample 3" in str(e.value) and "__getitem__" in str(e.value)
    assert next(it)["i"] == 4  # the iterator goes on, as PyTorch's
    del it, e


def test_worker_init_fn_error_and_unpicklable_batch_are_raised():
    def init(worker_id):
        raise KeyError("no config")

    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 0"):
        list(DataLoader(Samples(2), num_workers=1, worker_init_fn=init))
    with pytest.raises(Exception, match="while sending the batch"):
        list(DataLoader(Samples(2), num_workers=1, collate_fn=lambda batch: lambda: batch))


def test_timeout_and_killed_worker_raise_instead_of_hanging():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        next(iter(DataLoader(Samples(2, slow={0: 0.6}), num_workers=1, timeout=0.2)))
    assert time.monotonic() - start < 3

    class Dies(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return i

    it = iter(DataLoader(Dies(), batch_size=None, num_workers=2))
    with pytest.raises(RuntimeError, match="exited unexpectedly.*exit code -9"):
        list(it)
    assert multiprocessing.active_children() == []  # the other worker is stopped too
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        next(it)


def test_worker_killed_while_sending_a_big_batch_raises():
    """A big batch waits half-written in the pipe while the main process works; a worker
    killed then leaves a message that never completes: it must not hang the main process."""

    class Big(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return np.full(2_000_000, i, dtype=np.float32)

    it = iter(DataLoader(Big(), batch_size=None, num_workers=2))
    assert next(it)[0].item() == 0
    time.sleep(0.3)
    for process in multiprocessing.active_children():
        os.kill(process.pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(it)


def test_early_break_and_end_of_epoch_leave_no_processes():
    loader = DataLoader(Samples(40), batch_size=2, num_workers=2)
    for _ in loader:
        assert len(multiprocessing.active_children()) == 2
        break
    assert multiprocessing.active_children() == []
    list(loader)
    assert multiprocessing.active_children() == []


def test_persistent_workers_are_reused_across_epochs():
    class Pids(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return os.getpid()

    def pids(loader):
        return sorted({int(p) for b in loader for p in b.tolist()})

    loader = DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    first = pids(loader)
    for _ in loader:
        break  # an epoch left early: its unread batches must not leak into the next
    assert len(first) == 2 and pids(loader) == first
    assert [len(b) for b in loader] == [2, 2, 2]
    del loader  # the workers go with the loader
    fresh = DataLoader(Pids(), batch_size=2, num_workers=2)
    assert set(pids(fresh)).isdisjoint(pids(fresh))


def test_spawn_context():
    loader = DataLoader(
        SpawnSquares(), batch_size=3, num_workers=2, multiprocessing_context="spawn"
    )
    (a, ids_a, seeds_a), (b, ids_b, seeds_b) = loader
    assert a.tolist() + b.tolist() == [0.0, 1.0, 4.0, 9.0, 16.0, 25.0]
    assert ids_a.tolist() == [0, 0, 0] and ids_b.tolist() == [1, 1, 1]
    assert seeds_b[0].item() == seeds_a[0].item() + 1
    with pytest.raises(ValueError, match="start method"):
        DataLoader(SpawnSquares(), num_workers=1, multiprocessing_context="nope")
    with pytest.raises(ValueError, match="num_workers > 0"):
        DataLoader(SpawnSquares(), multiprocessing_context="spawn")


def test_shared_memory_tensors_come_back_as_copies():
    base = minigrad.arange(12.0).share_memory_()

    class Rows(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return base[2 * i : 2 * i + 2]  # a view of shared storage

    loader = DataLoader(Rows(), batch_size=None, num_workers=1)
    assert [r.tolist() for r in loader] == base.reshape(6, 2).tolist()


def seed_report(lib_data, lib):
    """A dataset class reporting, per sample, its worker's seeds (for minigrad and torch)."""

    class Seeds(lib_data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = lib_data.get_worker_info()
            base = info.seed - info.id
            expected_np = np.random.RandomState(
                np.random.SeedSequence([info.id, base]).generate_state(4)
            ).random_sample()
            return [
                info.id,
                info.seed,
                lib.initial_seed() == info.seed,
                random.Random(info.seed).random() == random.random(),
                expected_np == np.random.random_sample(),
            ]

    return Seeds


def test_worker_seeds():
    Seeds = seed_report(data, minigrad)
    g = minigrad.Generator()

    def run(seed, **options):
        g.manual_seed(seed)
        loader = DataLoader(Seeds(), batch_size=None, num_workers=2, generator=g, **options)
        return [list(loader) for _ in range(2)]

    first, again = run(0), run(0)
    assert first == again  # the generator decides the seeds
    epoch1, epoch2 = first
    for epoch in first:  # the first sample of each worker sees freshly seeded generators
        assert [r[2:] for r in epoch] == [[True] * 3] * 2 + [[True, False, False]] * 2
    assert epoch1[1][1] == epoch1[0][1] + 1  # base_seed + worker_id
    assert epoch1[0][1] != epoch2[0][1]  # a new base seed every epoch
    persistent = run(0, persistent_workers=True)
    assert persistent[0][0][1] == persistent[1][0][1]  # seeded once


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_as_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as torch_data

    def run(lib_data, lib):
        Samples, Stream = make_datasets(lib_data, lib)
        order = [
            b["worker"].tolist() + b["i"].tolist()
            for b in lib_data.DataLoader(Samples(11), batch_size=2, num_workers=3)
        ]
        streams = [
            [b.tolist() for b in lib_data.DataLoader(Stream(7, shard), batch_size=2, num_workers=3)]
            for shard in (True, False)
        ]
        seeds = [
            row[:1] + row[2:]
            for row in lib_data.DataLoader(
                seed_report(lib_data, lib)(), batch_size=None, num_workers=2
            )
        ]
        epochs = []  # which epochs persistent workers shuffle as num_workers=0 does
        for options in (dict(num_workers=0), dict(num_workers=2, persistent_workers=True)):
            g = lib.Generator().manual_seed(0)
            loader = lib_data.DataLoader(
                list(range(8)), batch_size=4, shuffle=True, generator=g, **options
            )
            epochs.append([[b.tolist() for b in loader] for _ in range(3)])
        same = [a == b for a, b in zip(*epochs)]
        return order, streams, seeds, same

    ours = run(data, minigrad)
    try:
        theirs = run(torch_data, torch)
    finally:  # drop the weak references to the storages torch's workers shared now, while torch
        # is whole: left for interpreter exit, each prints an ignored AttributeError
        from torch.multiprocessing import reductions

        reductions.shared_cache.clear()
    for name, a, b in zip(("order", "streams", "seeds", "same shuffle"), ours, theirs):
        assert a == b, name


def test_workers_leave_gpu_generators_of_a_forked_parent_alone(monkeypatch):
    """CUDA does not survive fork: seeding a worker must not reseed a GPU generator the main
    process made (here a stand-in that fails when touched)."""
    from collections import namedtuple

    from minigrad import backend

    class Untouchable:
        def manual_seed(self, seed):
            raise RuntimeError("a GPU generator was touched in a forked worker")

    gpu = namedtuple("Device", "type index")("cuda", 0)
    monkeypatch.setitem(backend._generators, gpu, Untouchable())
    loader = DataLoader(Samples(4), batch_size=2, num_workers=2, multiprocessing_context="fork")
    assert [b["i"].tolist() for b in loader] == [[0, 1], [2, 3]]


class _SlowFirst(Dataset):
    """Item 0 takes a while; the others are instant. Counts the items loaded."""

    def __init__(self, counter):
        self.counter = counter

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == 0:
            time.sleep(0.5)
        with self.counter.get_lock():
            self.counter.value += 1
        return i


def test_a_slow_worker_does_not_let_the_others_run_ahead():
    # As PyTorch: batches in flight plus batches back early (waiting for an earlier one) are at
    # most prefetch_factor * num_workers; they used to be refilled as early ones came back
    counter = multiprocessing.Value("i", 0)
    it = iter(DataLoader(_SlowFirst(counter), batch_size=None, num_workers=2, prefetch_factor=2))
    assert next(it) == 0
    time.sleep(0.3)  # the fast worker would have loaded everything by now
    assert counter.value <= 2 * 2 + 1
    assert list(it) == list(range(1, 12))
