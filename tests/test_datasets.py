"""Datasets: bundled Digits and text, the IDX parser, and MNIST's cache logic (never online)."""

import gzip
import hashlib
import urllib.error

import numpy as np
import pytest

import minigrad
from minigrad.datasets import (
    MNIST,
    CharDataset,
    Digits,
    FashionMNIST,
    _cache,
    data_home,
    load_digits,
    read_idx,
    shakespeare_sonnets,
)
from minigrad.utils.data import DataLoader


# -- Digits ---------------------------------------------------------------------------------------
def test_load_digits_is_the_full_set():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert labels[:5].tolist() == [0, 1, 2, 3, 4]


def test_digits_shapes_dtypes_and_range():
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797
    assert 355 <= len(test) <= 365
    x, y = train[0]
    assert x.shape == (64,) and x.dtype == minigrad.float32 and y.dtype == minigrad.int64
    assert train.data.shape == (len(train), 64) and train.targets.shape == (len(train),)
    assert 0.0 <= float(train.data.min()) and float(train.data.max()) == 1.0
    assert Digits(flatten=False).data.shape == (len(train), 1, 8, 8)
    assert float(Digits(normalize=False).data.max()) == 16.0


def test_digits_split_is_deterministic_disjoint_and_stratified():
    images, _ = load_digits()
    flat = images.reshape(len(images), -1).astype(np.float32) / 16
    a, b = Digits(train=False, seed=3), Digits(train=False, seed=3)
    np.testing.assert_array_equal(a.data.numpy(), b.data.numpy())
    assert not np.array_equal(a.data.numpy(), Digits(train=False, seed=4).data.numpy())
    train = Digits(train=True, seed=3)
    rows = {r.tobytes(): i for i, r in enumerate(flat)}
    test_rows = {rows[r.tobytes()] for r in a.data.numpy()}
    train_rows = {rows[r.tobytes()] for r in train.data.numpy()}
    assert len(test_rows & train_rows) <= 5  # identical images may occur in both (duplicates)
    counts = np.bincount(a.targets.numpy(), minlength=10)
    assert counts.min() >= 34 and counts.max() <= 37  # about 20% of each class


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 2])
def test_digits_rejects_bad_test_fraction(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        Digits(test_fraction=fraction)


def test_digits_works_with_dataloader():
    loader = DataLoader(Digits(), batch_size=100, shuffle=True)
    xb, yb = next(iter(loader))
    assert xb.shape == (100, 64) and yb.shape == (100,)


# -- IDX files ------------------------------------------------------------------------------------
def _idx_bytes(array: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D}
    header = bytes([0, 0, code[array.dtype.type], array.ndim])
    dims = np.asarray(array.shape, dtype=">i4").tobytes()
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write(path, array, compress=True):
    raw = _idx_bytes(array)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32])
def test_read_idx_round_trip(tmp_path, compress, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = read_idx(_write(tmp_path / "a.idx", a, compress))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


def test_read_idx_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 12)
    with pytest.raises(ValueError, match="bad magic number 12340801"):
        read_idx(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_read_idx_size_mismatch_and_bad_gzip(tmp_path):
    raw = _idx_bytes(np.zeros((3, 2), np.uint8))
    (tmp_path / "short").write_bytes(raw[:-1])
    with pytest.raises(ValueError, match="size mismatch"):
        read_idx(tmp_path / "short")
    (tmp_path / "broken.gz").write_bytes(gzip.compress(raw)[:-6])
    with pytest.raises(ValueError, match="corrupted gzip"):
        read_idx(tmp_path / "broken.gz")


# -- MNIST cache and download ---------------------------------------------------------------------
def _fake_mnist_files(folder, n_train=6, n_test=4):
    """Small IDX files with MNIST's names; returns {name: sha256}."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for kind, a in (("images-idx3", images), ("labels-idx1", labels)):
            path = _write(folder / f"{prefix}-{kind}-ubyte.gz", a)
            sums[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


@pytest.fixture
def fake_mirror(tmp_path, monkeypatch):
    """A mirror folder of small IDX files; the download function copies from it."""
    mirror = tmp_path / "mirror"
    sums = _fake_mnist_files(mirror)
    monkeypatch.setattr(MNIST, "resources", sums)
    monkeypatch.setattr(MNIST, "mirrors", ["https://unreachable.invalid/", "fake://mirror/"])
    calls = []

    def download(url, dest):
        calls.append(url)
        if not url.startswith("fake://mirror/"):
            raise urllib.error.URLError("no network in tests")
        dest.write_bytes((mirror / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(_cache, "download_url", download)
    return calls


def test_data_home_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_HOME", str(tmp_path))
    assert data_home() == tmp_path
    assert data_home(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("MINIGRAD_HOME")
    assert data_home().parts[-2:] == (".cache", "minigrad")


def test_mnist_downloads_verifies_and_parses(tmp_path, fake_mirror, monkeypatch):
    monkeypatch.setenv("MINIGRAD_HOME", str(tmp_path / "home"))
    train = MNIST(train=True, download=True)
    assert len(train) == 6 and train.data.shape == (6, 1, 28, 28)
    assert train.data.dtype == minigrad.float32 and float(train.data.max()) <= 1.0
    assert train.targets.dtype == minigrad.int64
    assert (tmp_path / "home" / "MNIST" / "train-images-idx3-ubyte.gz").exists()
    assert any(u.startswith("https://unreachable") for u in fake_mirror)  # first mirror failed
    test = MNIST(root=tmp_path / "home", train=False, download=True, flatten=True)
    assert test.data.shape == (4, 784)
    n_calls = len(fake_mirror)
    MNIST(root=tmp_path / "home", train=True)  # cached: no download needed
    assert len(fake_mirror) == n_calls


def test_mnist_missing_without_download(tmp_path, fake_mirror):
    with pytest.raises(FileNotFoundError, match="download=True"):
        MNIST(root=tmp_path / "empty")
    assert fake_mirror == []


def test_mnist_offline_is_a_clear_error(tmp_path, monkeypatch, fake_mirror):
    monkeypatch.setattr(MNIST, "mirrors", ["https://a.invalid/", "https://b.invalid/"])
    with pytest.raises(RuntimeError, match="could not download .* no network") as info:
        MNIST(root=tmp_path, download=True)
    assert "https://a.invalid/" in str(info.value) and "https://b.invalid/" in str(info.value)
    assert not list((tmp_path / "MNIST").glob("*"))  # no partial files left behind


def test_mnist_sha_mismatch(tmp_path, fake_mirror):
    MNIST(root=tmp_path, download=True)
    path = tmp_path / "MNIST" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes() + b"junk")
    with pytest.raises(RuntimeError, match="SHA-256 .* expected .* Delete it"):
        MNIST(root=tmp_path)


def test_mnist_reads_unpacked_files_and_fashion_folder(tmp_path, monkeypatch):
    folder = tmp_path / "FashionMNIST"
    folder.mkdir()
    _write(folder / "t10k-images-idx3-ubyte", np.full((2, 28, 28), 255, np.uint8), False)
    _write(folder / "t10k-labels-idx1-ubyte", np.array([3, 9], np.uint8), False)
    ds = FashionMNIST(root=tmp_path, train=False, normalize=False)
    assert ds.targets.tolist() == [3, 9] and float(ds.data.max()) == 255.0
    assert FashionMNIST.classes[9] == "Ankle boot"


def test_mnist_images_and_labels_must_match(tmp_path):
    folder = tmp_path / "MNIST"
    folder.mkdir()
    _write(folder / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8), False)
    _write(folder / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8), False)
    with pytest.raises(ValueError, match="do not match"):
        MNIST(root=tmp_path, train=False)


# -- text -----------------------------------------------------------------------------------------
def test_sonnets_corpus():
    text = shakespeare_sonnets()
    assert text.startswith("THE SONNETS") and 90_000 < len(text) < 1_000_000
    assert "Shall I compare thee to a summer's day?" in text


def test_char_dataset_round_trip_and_windows():
    ds = CharDataset("hello world", block_size=4)
    assert ds.vocab_size == 8 and ds.chars[0] == " "
    assert ds.decode(ds.encode("hello world")) == "hello world"
    assert len(ds) == len("hello world") - 4
    x, y = ds[1]
    assert ds.decode(x) == "ello" and ds.decode(y) == "llo "
    assert x.dtype == minigrad.int64
    xb, yb = ds.get_batch(5)
    assert xb.shape == (5, 4) and yb.shape == (5, 4)
    np.testing.assert_array_equal(xb.numpy()[:, 1:], yb.numpy()[:, :-1])


def test_char_dataset_shared_vocab_and_errors():
    train = CharDataset("abcabc", block_size=2)
    val = CharDataset("cab", block_size=2, chars=train.chars)
    assert val.encode("abc") == train.encode("abc")
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        train.encode("z")
    with pytest.raises(ValueError, match="longer than block_size"):
        CharDataset("ab", block_size=2)
    with pytest.raises(ValueError, match="block_size"):
        CharDataset("abc", block_size=0)
