"""minigrad.vision (torchvision's transforms, datasets and utils) and ``import torchvision``
under ``minigrad.as_torch``, checked against PyTorch's numbers and RNG where they meet."""

import gzip
import pickle
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minigrad
import minigrad.as_torch
from minigrad.vision import datasets, transforms, utils
from minigrad.vision.transforms import functional as TF

PIL = pytest.importorskip("PIL")
from PIL import Image  # noqa: E402


def _write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}i", *array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def _fake_mnist(root, count=16, compress=False):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    for prefix in ("train", "t10k"):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", images, compress)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress)
    return images, labels


def test_to_tensor_and_normalize_of_images_and_arrays():
    array = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    t = TF.to_tensor(array)
    assert t.shape == (3, 2, 3) and t.dtype is minigrad.float32
    np.testing.assert_allclose(t.numpy(), array.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    assert TF.to_tensor(array.astype(np.float64)).dtype is minigrad.float64  # unscaled
    grey = Image.fromarray(array[:, :, 0])
    assert TF.to_tensor(grey).shape == (1, 2, 3)
    assert TF.pil_to_tensor(grey).dtype is minigrad.uint8
    normed = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.25, 1.0))(t)
    np.testing.assert_allclose(normed[1].numpy(), (t[1].numpy() - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        TF.normalize(t, (0.0,), (0.0,))
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        TF.normalize(TF.pil_to_tensor(grey), (0.0,), (1.0,))
    back = TF.to_pil_image(t)
    assert back.mode == "RGB" and np.array(back).tolist() == array.tolist()


def test_resize_and_crops_match_pytorch():
    torch = pytest.importorskip("torch")
    image = minigrad.rand(3, 10, 14, generator=minigrad.Generator().manual_seed(0))
    out = transforms.Resize(5)(image)  # shorter side 5: (5, 7), antialiased bilinear
    theirs = torch.nn.functional.interpolate(
        torch.tensor(image.numpy())[None], size=(5, 7), mode="bilinear", antialias=True
    )[0]
    assert out.shape == (3, 5, 7)
    np.testing.assert_allclose(out.numpy(), theirs.numpy(), atol=1e-6)
    assert transforms.CenterCrop(4)(image).tolist() == image[:, 3:7, 5:9].tolist()
    padded = TF.center_crop(image, (12, 14))  # larger than the image: zero rows
    assert padded.shape == (3, 12, 14) and float(padded[:, 0].abs().sum()) == 0.0
    pil = Image.fromarray((np.arange(140) % 256).astype(np.uint8).reshape(10, 14))
    assert transforms.Resize((4, 6))(pil).size == (6, 4)
    assert TF.crop(pil, 2, 3, 4, 5).size == (5, 4)
    with pytest.raises(ValueError, match="Required crop size"):
        transforms.RandomCrop(20)(image)


def test_random_transforms_draw_as_torchvision_from_the_global_generator():
    torch = pytest.importorskip("torch")
    image = minigrad.arange(2 * 8 * 8, dtype=minigrad.float32).reshape(2, 8, 8)
    minigrad.manual_seed(3)
    flips = [bool((transforms.RandomHorizontalFlip()(image) != image).any()) for _ in range(8)]
    params = transforms.RandomCrop.get_params(image, (5, 6))
    torch.manual_seed(3)
    expected_flips = [bool(torch.rand(1) < 0.5) for _ in range(8)]
    i = torch.randint(0, 8 - 5 + 1, size=(1,)).item()
    j = torch.randint(0, 8 - 6 + 1, size=(1,)).item()
    assert flips == expected_flips and params == (i, j, 5, 6)
    minigrad.manual_seed(0)
    crop = transforms.RandomCrop(8, padding=2, padding_mode="reflect")(image)
    assert crop.shape == (2, 8, 8)
    assert transforms.RandomResizedCrop(4)(image).shape == (2, 4, 4)


def test_mnist_in_torchvisions_layout(tmp_path):
    images, labels = _fake_mnist(tmp_path, compress=True)
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST(tmp_path, train=True, download=False, transform=tfm)
    assert len(train) == 16 and train.data.dtype is minigrad.uint8
    assert train.targets.tolist() == labels.tolist()
    x, y = train[0]
    assert x.shape == (1, 28, 28) and isinstance(y, int) and y == labels[0]
    np.testing.assert_allclose(x.numpy()[0], (images[0] / 255.0 - 0.1307) / 0.3081, rtol=1e-5)
    raw_image, _ = datasets.MNIST(tmp_path, train=False)[1]
    assert raw_image.mode == "L" and np.array(raw_image).tolist() == images[1].tolist()
    assert "Number of datapoints: 16" in repr(train) and "Split: Train" in repr(train)
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True"):
        datasets.FashionMNIST(tmp_path)


def test_cifar10_image_folder_and_fake_data(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "labels": [1, 7]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(
        pickle.dumps({"label_names": [f"c{i}" for i in range(10)]})
    )
    cifar = datasets.CIFAR10(tmp_path, train=True, transform=transforms.ToTensor())
    x, y = cifar[3]
    assert len(cifar) == 10 and x.shape == (3, 32, 32) and y == 7 and cifar.classes[7] == "c7"
    (folder / "test_batch").write_bytes(
        pickle.dumps({"data": np.zeros((1, 3072)), "labels": [print]})
    )
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        datasets.CIFAR10(tmp_path, train=False)
    for cls in ("cat", "dog"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        Image.new("RGB", (5, 4), (10, 20, 30)).save(tmp_path / "imgs" / cls / "a.png")
    (tmp_path / "imgs" / "dog" / "notes.txt").write_text("not an image")
    folder_ds = datasets.ImageFolder(tmp_path / "imgs", transform=transforms.ToTensor())
    assert folder_ds.classes == ["cat", "dog"] and folder_ds.targets == [0, 1]
    assert folder_ds[1][0].shape == (3, 4, 5)
    fake = datasets.FakeData(size=3, image_size=(3, 4, 4), transform=transforms.PILToTensor())
    assert fake[1][0].tolist() == fake[1][0].tolist() and fake[1][0].shape == (3, 4, 4)


def test_fakedata_gives_torchvisions_images_and_targets():
    """torchvision draws image ``i`` as ``manual_seed(i + random_offset); randn; randint`` and
    converts it with ``ToPILImage`` (``mul(255).byte()``): PyTorch's draws give the same."""
    torch = pytest.importorskip("torch")
    fake = datasets.FakeData(
        size=3, image_size=(3, 4, 5), num_classes=7, random_offset=5,
        transform=transforms.PILToTensor(),
    )  # fmt: skip
    for i in range(3):
        torch.manual_seed(i + 5)
        image = torch.randn(3, 4, 5).mul(255).byte()
        target = torch.randint(0, 7, size=(1,))[0].item()
        assert fake[i][1] == target and fake[i][0].tolist() == image.tolist()


def test_make_grid_and_save_image(tmp_path):
    batch = minigrad.rand(5, 1, 4, 4)
    grid = utils.make_grid(batch, nrow=3, padding=1, pad_value=0.5)
    assert grid.shape == (3, 2 * 5 + 1, 3 * 5 + 1)
    assert grid[0, 1:5, 1:5].tolist() == batch[0, 0].tolist() and float(grid[0, 0, 0]) == 0.5
    utils.save_image(batch, tmp_path / "grid.png", nrow=3)
    assert Image.open(tmp_path / "grid.png").size == (3 * 6 + 2, 2 * 6 + 2)


def test_the_classic_tutorial_runs_with_import_torchvision(tmp_path, capsys):
    _fake_mnist(tmp_path, count=32)
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent(f"""
        import torch, torch.nn as nn, torch.nn.functional as F
        import torchvision
        from torchvision import datasets, transforms
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
        train = datasets.MNIST({str(tmp_path)!r}, train=True, download=False, transform=transform)
        loader = torch.utils.data.DataLoader(train, batch_size=16, shuffle=True)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(676, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for data, target in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(data), target)
            loss.backward()
            opt.step()
        print(type(torchvision).__name__, torchvision.__name__, data.shape, target.dtype, loss.item() > 0)
    """)
    )
    minigrad.as_torch.run_path(str(script))
    assert capsys.readouterr().out.split() == [
        "module",
        "torchvision",  # (under as_torch modules are named as imported, as PyTorch's are)
        "torch.Size([16,",
        "1,",
        "28,",
        "28])",
        "torch.int64",
        "True",
    ]


def test_importing_vision_leaves_tensor_methods_plain():
    """tv_tensors' classes make every Tensor method dispatch while they live, so
    ``import torchvision`` (and v1 transforms, datasets, models) must not define them."""
    code = (
        "import minigrad.vision as v, minigrad._torch_function as tf\n"
        "from minigrad.vision import datasets, io, models, ops, transforms, utils\n"
        "assert tf._holders[0] == 0, tf._holders\n"
        "v.tv_tensors.Image\n"
        "assert tf._holders[0] > 0\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
