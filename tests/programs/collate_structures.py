"""Data-loading utilities around nested samples, as detection and NLP pipelines write them:
a ``Dataset`` returning dicts of NumPy arrays, tensors, strings, ints, floats, bools and a
``namedtuple``, batched by ``default_collate`` (stacked, converted, lists transposed); a
custom ``collate_fn`` keeping variable-size boxes as a list; ``ConcatDataset`` and ``Subset``
indexing; ``random_split`` with fractional lengths (the sizes); ``DataLoader(batch_size=None)``
with ``default_convert``; an ``IterableDataset`` that shards with ``get_worker_info()`` (None in
the main process); a ``Sampler`` subclass that yields bucketed index batches as
``batch_sampler``; and ``len`` of each loader."""

from collections import namedtuple

import numpy as np
import torch
from torch.utils.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    Sampler,
    Subset,
    get_worker_info,
    random_split,
)
from torch.utils.data._utils.collate import default_collate, default_convert

Meta = namedtuple("Meta", ["source", "index"])
rng = np.random.default_rng(231)


class Scenes(Dataset):
    def __init__(self, n, offset=0):
        self.n, self.offset = n, offset
        self.images = rng.normal(size=(n, 2, 3)).astype(np.float32)
        self.boxes = [
            rng.uniform(0, 1, (int(rng.integers(1, 4)), 4)).astype(np.float32) for _ in range(n)
        ]

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {
            "image": self.images[i],
            "label": i % 3,
            "weight": 0.5 * (i + 1),
            "flag": i % 2 == 0,
            "name": f"scene-{i + self.offset}",
            "meta": Meta("synthetic", i + self.offset),
            "extra": torch.full((2,), float(i)),
            "boxes": self.boxes[i],
        }


def summarize(batch):
    out = {}
    for key, value in batch.items():
        if torch.is_tensor(value):
            out[key] = (
                str(value.dtype).split(".")[-1],
                list(value.shape),
                value.flatten()[:4].tolist(),
            )
        elif isinstance(value, tuple):  # the namedtuple, collated field by field
            out[key] = (
                type(value).__name__,
                [v.tolist() if torch.is_tensor(v) else list(v) for v in value],
            )
        else:
            out[key] = (
                type(value).__name__,
                value if isinstance(value, list) and isinstance(value[0], str) else len(value),
            )
    return out


def detection_collate(batch):
    boxes = [torch.as_tensor(sample.pop("boxes")) for sample in batch]
    collated = default_collate(batch)
    collated["boxes"] = boxes
    return collated


train, extra = Scenes(7), Scenes(3, offset=100)
loader = DataLoader(train, batch_size=3, collate_fn=detection_collate)
batches = [summarize(b) for b in loader]
box_counts = [
    [len(b) for b in batch["boxes"]]
    for batch in DataLoader(train, batch_size=3, collate_fn=detection_collate)
]

both = ConcatDataset([train, extra])
subset = Subset(both, [0, 7, 9])
concat_names = [both[i]["name"] for i in (0, 6, 7, 9)] + [s["name"] for s in subset]
cumulative = both.cumulative_sizes
split_sizes = [len(s) for s in random_split(range(10), [0.7, 0.3])]

unbatched = DataLoader([np.arange(3), np.ones(2)], batch_size=None)
converted = [(type(x).__name__, x.tolist()) for x in unbatched]
converted_nested = {
    k: type(v).__name__
    for k, v in default_convert({"a": np.zeros(2), "b": [np.ones(1)], "c": "text"}).items()
}


class Stream(IterableDataset):
    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            lo, hi = self.start, self.end
        else:
            per = int(np.ceil((self.end - self.start) / info.num_workers))
            lo = self.start + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


stream_batches = [b.tolist() for b in DataLoader(Stream(3, 10), batch_size=3)]
stream_drop = [b.tolist() for b in DataLoader(Stream(3, 10), batch_size=3, drop_last=True)]


class BucketBatchSampler(Sampler):
    def __init__(self, lengths, batch_size):
        self.lengths, self.batch_size = lengths, batch_size

    def __iter__(self):
        order = sorted(range(len(self.lengths)), key=lambda i: (self.lengths[i], i))
        for i in range(0, len(order), self.batch_size):
            yield order[i : i + self.batch_size]

    def __len__(self):
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size


lengths = [len(b) for b in train.boxes]
bucketed = DataLoader(
    train, batch_sampler=BucketBatchSampler(lengths, 3), collate_fn=detection_collate
)
bucket_names = [batch["name"] for batch in bucketed]
loader_lengths = [len(loader), len(bucketed), len(DataLoader(train, batch_size=3, drop_last=True))]
tensor_collate = default_collate([torch.tensor([1, 2]), torch.tensor([3, 4])]).tolist()
number_collate = [
    str(default_collate(v).dtype).split(".")[-1] for v in ([1, 2], [1.5, 2.5], [True, False])
]
print(batches[0]["image"], box_counts, concat_names, split_sizes)
