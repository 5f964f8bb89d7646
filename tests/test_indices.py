"""Index checking at the root (``normalize_key``, ``check_range``): masks, uint8 masks,
out-of-range and negative indices in every indexing op, on the CPU as PyTorch and on the
CuPy stand-in at the next host synchronisation."""

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.backend import IndexOutOfRangeError
from minigrad.testing.fake_device import HostTransfers

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8:UserWarning")

X = np.arange(6.0).reshape(2, 3)

# (name, minigrad call, torch call); each on X with an index that PyTorch rejects
OUT_OF_RANGE = [
    ("gather -1", lambda x, t: x.gather(1, t.tensor([[-1], [0]]))),
    ("gather 3", lambda x, t: x.gather(1, t.tensor([[3], [0]]))),
    ("scatter_add -1", lambda x, t: x.scatter_add(1, t.tensor([[-1], [0]]), x.new_ones(2, 1))),
    ("scatter_add 3", lambda x, t: x.scatter_add(1, t.tensor([[3], [0]]), x.new_ones(2, 1))),
    ("index_select -1", lambda x, t: x.index_select(1, t.tensor([-1]))),
    ("index_select 3", lambda x, t: x.index_select(1, t.tensor([0, 3]))),
    ("getitem -4", lambda x, t: x[:, t.tensor([-4])]),
    ("getitem 2", lambda x, t: x[t.tensor([2])]),
    ("getitem list 2", lambda x, t: x[[0, 2]]),
    ("getitem pair", lambda x, t: x[t.tensor([0]), t.tensor([5])]),
    ("embedding -1", lambda x, t: _embedding(t)(t.tensor([-1]), x)),
    ("embedding 2", lambda x, t: _embedding(t)(t.tensor([[0, 2]]), x)),
]

IN_RANGE = [
    ("getitem -1", lambda x, t: x[:, t.tensor([-1, 0])]),
    ("getitem -2 rows", lambda x, t: x[t.tensor([-2, 1, -1])]),
    ("index_select", lambda x, t: x.index_select(1, t.tensor([2, 0, 2]))),
    ("gather", lambda x, t: x.gather(1, t.tensor([[2, 0], [1, 1]]))),
    ("scatter_add", lambda x, t: x.scatter_add(1, t.tensor([[2, 2], [0, 1]]), x[:, :2] * 2)),
    ("embedding", lambda x, t: _embedding(t)(t.tensor([[1, 0, 1]]), x)),
]


def _embedding(t):
    return torch.nn.functional.embedding if t is torch else F.embedding


def _run(call, device):
    """``call`` on X with minigrad, every tensor it makes on ``device``."""

    class OnDevice:
        def __getattr__(self, attr):
            fn = getattr(minigrad, attr)
            return lambda *a, **k: fn(*a, **k).to(device)

    return call(minigrad.tensor(X, device=device), OnDevice())


def _torch_raises(call):
    try:
        call(torch.tensor(X), torch)
    except (IndexError, RuntimeError):
        return True
    return False


@pytest.mark.parametrize("name, call", OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE])
def test_out_of_range_raises_on_cpu_as_pytorch(name, call):
    assert _torch_raises(call), f"PyTorch accepts {name}: the table is wrong"
    with pytest.raises(IndexError, match="out of (bounds|range)") as info:
        call(minigrad.tensor(X), minigrad)
    assert isinstance(info.value, (IndexError, RuntimeError))


@pytest.mark.parametrize("name, call", IN_RANGE, ids=[c[0] for c in IN_RANGE])
def test_in_range_and_negative_where_allowed_match_pytorch(device, name, call):
    got = _run(call, device)
    np.testing.assert_allclose(got.cpu().numpy(), call(torch.tensor(X), torch).numpy())


def test_gather_family_errors_are_also_runtime_errors_as_in_pytorch():
    x = minigrad.tensor(X)
    with pytest.raises(RuntimeError, match=r"gather\(\): index 3 is out of bounds for dim"):
        x.gather(1, minigrad.tensor([[3], [0]]))
    with pytest.raises(IndexOutOfRangeError, match="dimension 1 with size 3"):
        x.index_select(1, minigrad.tensor([-1]))


def test_writes_check_indices_and_masks():
    x = minigrad.tensor(X)
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        x[minigrad.tensor([2])] = 1.0
    x[minigrad.tensor([-1])] = 7.0  # negative within range: the last row, as PyTorch
    assert x[1].tolist() == [7.0, 7.0, 7.0]
    a = minigrad.arange(4)
    with pytest.raises(IndexError, match=r"shape of the mask \[3\] at index 0 does not match"):
        a[minigrad.tensor([True, False, True])] = 0


MASKS = [
    ("short", lambda t: t.arange(4), lambda t: t.tensor([True, False, True])),
    ("long", lambda t: t.arange(4), lambda t: t.tensor([True, False, True, True, False])),
    ("list", lambda t: t.arange(4), lambda t: [True, False, True]),
    (
        "2d dim 1",
        lambda t: t.arange(6).reshape(2, 3),
        lambda t: (slice(None), t.tensor([1, 0]) > 0),
    ),
    ("2d shape", lambda t: t.arange(6).reshape(2, 3), lambda t: t.tensor([[True, False, True]])),
    ("uint8", lambda t: t.arange(4), lambda t: t.tensor([1, 0, 1], dtype=t.uint8)),
    ("3d", lambda t: t.zeros(2, 3, 4), lambda t: (Ellipsis, t.ones(3, 3) > 0)),
]


@pytest.mark.parametrize("name, make, key", MASKS, ids=[m[0] for m in MASKS])
def test_mask_of_the_wrong_shape_raises_as_pytorch(device, name, make, key):
    with pytest.raises(IndexError) as expected:
        make(torch)[key(torch)]
    x = make(minigrad).to(device)
    k = key(minigrad)
    k = (
        tuple(v.to(device) if isinstance(v, minigrad.Tensor) else v for v in k)
        if isinstance(k, tuple)
        else (k.to(device) if isinstance(k, minigrad.Tensor) else k)
    )
    with pytest.warns(UserWarning) if name == "uint8" else _nothing():
        with pytest.raises(IndexError) as got:
            x[k]
    if "shape of the mask" in str(expected.value):
        assert str(got.value) == str(expected.value)


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_masks_that_fit_match_pytorch(device):
    m = np.arange(24).reshape(2, 3, 4)
    keys = [
        lambda t: t.tensor([True, False]),
        lambda t: (slice(None), t.tensor([True, False, True])),
        lambda t: (Ellipsis, t.tensor([True, False, True, True])),
        lambda t: t.tensor(m % 2 == 0),
        lambda t: (0, t.tensor([[True, False, True, False]] * 3)),
    ]
    for key in keys:
        expected = torch.tensor(m)[key(torch)].numpy()
        k = key(minigrad)
        k = (
            tuple(v.to(device) if isinstance(v, minigrad.Tensor) else v for v in k)
            if isinstance(k, tuple)
            else k.to(device)
        )
        np.testing.assert_array_equal(minigrad.tensor(m, device=device)[k].cpu().numpy(), expected)


def test_uint8_index_tensors_are_masks_as_in_pytorch(device):
    a = np.arange(4)
    mask = [2, 0, 1, 1]  # any nonzero byte is True
    with pytest.warns(UserWarning, match="uint8 is deprecated"):
        got = minigrad.tensor(a, device=device)[
            minigrad.tensor(mask, dtype=minigrad.uint8, device=device)
        ]
    expected = torch.tensor(a)[torch.tensor(mask, dtype=torch.uint8)]
    assert got.tolist() == expected.tolist() == [0, 2, 3]
    with pytest.warns(UserWarning):
        x = minigrad.zeros(4, device=device)
        x[minigrad.tensor([1, 0, 0, 1], dtype=minigrad.uint8, device=device)] = 5.0
    assert x.tolist() == [5.0, 0.0, 0.0, 5.0]


def test_index_dtypes_pytorch_rejects():
    x = minigrad.tensor(X)
    for dtype in (minigrad.int8, minigrad.int16, minigrad.float32):
        with pytest.raises(IndexError, match="must be long, int, byte or bool"):
            x[minigrad.tensor([1], dtype=dtype)]
    assert x[minigrad.tensor([1], dtype=minigrad.int32)].tolist() == [[3.0, 4.0, 5.0]]
    with pytest.raises(RuntimeError, match=r"index_select\(\): Expected dtype int32 or int64"):
        x.index_select(0, minigrad.tensor([1], dtype=minigrad.uint8))
    assert x.gather(1, minigrad.tensor([[1], [0]], dtype=minigrad.int32)).tolist() == [[1.0], [3.0]]


def test_embedding_layer_checks_its_indices():
    emb = nn.Embedding(3, 2)
    with pytest.raises(
        IndexError, match=r"index out of range in self \(embedding: index 3 for 3 embeddings"
    ):
        emb(minigrad.tensor([[0, 3]]))
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(minigrad.tensor([-1]))


# -- on a GPU (the stand-in): flagged on the device, raised at the next host sync ----------


@pytest.mark.parametrize("name, call", OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE])
def test_on_a_gpu_out_of_range_raises_at_the_next_sync(name, call):
    minigrad.device("fakegpu").backend.raise_deferred()  # nothing left from other tests
    before = HostTransfers.count
    out = _run(call, "fakegpu")  # no error yet, and no host round trip
    assert HostTransfers.count == before
    with pytest.raises(IndexError, match=r"out of (bounds|range).*found at the next host sync"):
        out.sum().item()
    assert out.sum().item() is not None  # reported once; the device state is clean again


def test_gpu_index_error_names_op_size_and_index():
    x = minigrad.tensor(X, device="fakegpu")
    y = x.gather(1, minigrad.tensor([[0], [7]], device="fakegpu"))
    with pytest.raises(
        IndexError, match=r"gather\(\): index 7 is out of bounds for dimension 1 with size 3"
    ):
        y.cpu()
    y = F.embedding(minigrad.tensor([1, 9, 4], device="fakegpu"), x)
    with pytest.raises(
        IndexError, match=r"index out of range in self \(embedding: index 9 for 2 embeddings"
    ):
        minigrad.cuda.synchronize("fakegpu")
    x[minigrad.tensor([0, 2], device="fakegpu")] = 1.0  # a write: flagged too
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        x.cpu()


def test_the_stand_in_wraps_indices_as_cupy_does():
    """The defect the check guards against: CuPy returns wrapped rows instead of raising."""
    fake = minigrad.device("fakegpu").backend.xp
    a = fake.asarray(np.arange(3.0))
    assert a[fake.asarray(np.array([3, -4]))].tolist() == [0.0, 2.0]
    rows = fake.take_along_axis(fake.asarray(X), fake.asarray(np.array([[3], [4]])), 1)
    assert rows.tolist() == [[0.0], [4.0]]


def test_deferred_checks_stay_bounded_in_a_loop():
    backend = minigrad.device("fakegpu").backend
    x = minigrad.randn(5, 3, device="fakegpu")
    for i in range(50):
        x.gather(0, minigrad.tensor([[i % 5, 0, 1]], device="fakegpu"))
    assert len(backend._deferred) == 1  # one record per op and size, not per call
    x.sum().item()
    assert not backend._deferred


def test_training_loop_with_embedding_makes_no_host_transfers():
    minigrad.manual_seed(0)
    emb = nn.Embedding(10, 4).to("fakegpu")
    head = nn.Linear(4, 10).to("fakegpu")
    opt = minigrad.optim.Adam([*emb.parameters(), *head.parameters()], lr=0.01)
    tokens = minigrad.randint(0, 10, (8, 5)).to("fakegpu")

    def step():
        logits = head(emb(tokens))
        loss = F.cross_entropy(logits.reshape(-1, 10), tokens.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step()
    before = HostTransfers.count
    for _ in range(3):
        loss = step()
    assert HostTransfers.count == before, "index checks must not copy to the host per op"
    loss.item()
    assert HostTransfers.count == before + 2  # the loss, and one read of all pending flags


def test_one_hot_checks_class_values_on_every_device():
    with pytest.raises(
        RuntimeError,
        match=r"Class values must be smaller than num_classes. \(one_hot: class value 3",
    ):
        F.one_hot(minigrad.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match="class value -1"):
        F.one_hot(minigrad.tensor([-1, 0]), 3)
    before = HostTransfers.count
    out = F.one_hot(minigrad.tensor([0, 5], device="fakegpu"), 3)
    assert HostTransfers.count == before
    with pytest.raises(IndexError, match="class value 5"):
        out.tolist()
    assert F.one_hot(minigrad.tensor([2, 0], device="fakegpu:1"), 3).tolist() == [
        [0, 0, 1],
        [1, 0, 0],
    ]


@pytest.mark.parametrize(
    "make_key",
    [
        lambda t: [[0, 1], [1, 2]],  # a list of lists: two index lists, not one 2-D index
        lambda t: [slice(None), [0, 2]],
        lambda t: [slice(None), t.tensor([0, 2])],
        lambda t: [slice(None), t.tensor([True, False, True, False])],
        lambda t: [None, 0],
        lambda t: [Ellipsis, 1],
        lambda t: [t.tensor([0, 2])],
    ],
)
def test_short_lists_holding_sequences_index_as_tuples_as_in_pytorch(make_key):
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        ours = minigrad.tensor(x)[make_key(minigrad)]
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        theirs = torch.tensor(x)[make_key(torch)]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours, theirs = minigrad.zeros(3, 4), torch.zeros(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        ours[make_key(minigrad)] = 1.0
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        theirs[make_key(torch)] = 1.0
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_lists_of_ints_and_arrays_stay_one_index():
    x = minigrad.arange(12.0).reshape(3, 4)
    assert x[[0, 2]].shape == (2, 4) and x[[True, False, True]].shape == (2, 4)
    assert x[np.array([[0, 1], [1, 2]])].shape == (2, 2, 4)
