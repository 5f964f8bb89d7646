"""More of torchvision on minigrad: rotations, affine warps, blur and erasing (v1 and v2,
boxes and masks moving with the image), checked by hand, against torchvision's
grid_sample construction rebuilt in PyTorch, and against torchvision's random draws
reproduced with PyTorch's generator under the same seed."""

import numpy as np
import pytest

import minigrad
from minigrad.vision import transforms as T
from minigrad.vision import tv_tensors
from minigrad.vision.transforms import functional as TF
from minigrad.vision.transforms import v2
from minigrad.vision.transforms._warp import inverse_affine_matrix
from minigrad.vision.transforms.v2 import functional as F

NEAREST, BILINEAR = TF.InterpolationMode.NEAREST, TF.InterpolationMode.BILINEAR


def _image(shape=(2, 3, 5, 6), seed=0):
    return np.random.RandomState(seed).rand(*shape).astype(np.float32)


def _torch_warp(torch, img, matrix, mode, fill, out_hw=None):
    """torchvision's tensor warp, rebuilt in PyTorch: the grid of output pixel centres about
    the centre through ``matrix``, over half the input size; a ones channel carries fill."""
    t = torch.tensor(img)
    h, w = t.shape[-2:]
    oh, ow = out_hw or (h, w)
    base = torch.empty(1, oh, ow, 3)
    base[..., 0].copy_(torch.linspace((1.0 - ow) * 0.5, (ow - 1.0) * 0.5, steps=ow))
    base[..., 1].copy_(torch.linspace((1.0 - oh) * 0.5, (oh - 1.0) * 0.5, steps=oh)[:, None])
    base[..., 2].fill_(1)
    theta = torch.tensor(matrix).reshape(1, 2, 3).transpose(1, 2) / torch.tensor([w / 2, h / 2])
    grid = base.view(1, -1, 3).bmm(theta).view(1, oh, ow, 2).expand(t.shape[0], -1, -1, -1)
    if fill is not None:
        t = torch.cat((t, torch.ones(t.shape[0], 1, h, w)), 1)
    out = torch.nn.functional.grid_sample(t, grid, mode=mode, align_corners=False)
    if fill is not None:
        out, mask = out[:, :-1], out[:, -1:]
        colour = torch.tensor(fill).view(1, -1, 1, 1)
        nearest = torch.where(mask < 0.5, colour.expand_as(out), out)
        out = nearest if mode == "nearest" else (out - colour) * mask + colour
    return out.numpy()


@pytest.mark.parametrize("mode", [NEAREST, BILINEAR])
@pytest.mark.parametrize("fill", [None, [0.5, 0.25, 1.0]])
def test_affine_and_rotate_match_torchvisions_grid_sample_warp(mode, fill):
    torch = pytest.importorskip("torch")
    img = _image()
    got = TF.affine(minigrad.tensor(img), 30.0, [1, -2], 1.2, [10.0, 5.0], mode, fill)
    matrix = inverse_affine_matrix([0, 0], 30.0, [1, -2], 1.2, [10.0, 5.0])
    want = _torch_warp(torch, img, matrix, mode.value, fill)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-6)
    got = TF.rotate(minigrad.tensor(img), 33.0, mode, expand=True, fill=fill)
    matrix = inverse_affine_matrix([0, 0], -33.0, [0, 0], 1.0, [0, 0])
    assert got.shape == (2, 3, 9, 8)  # PIL sizes a 6x5 image turned by 33 degrees 8x9
    np.testing.assert_allclose(
        got.numpy(), _torch_warp(torch, img, matrix, mode.value, fill, (9, 8)), atol=1e-6
    )


def test_warps_by_hand():
    img = minigrad.arange(1.0, 10.0).reshape(1, 3, 3)
    # a quarter turn counter-clockwise: the top row becomes the left column, read upwards
    assert TF.rotate(img, 90.0).tolist() == [[[3, 6, 9], [2, 5, 8], [1, 4, 7]]]
    shifted = TF.affine(img, 0.0, [1, 0], 1.0, 0.0, fill=[7.0])
    assert shifted.tolist() == [[[7, 1, 2], [7, 4, 5], [7, 7, 8]]]
    half = TF.affine(img, 0.0, [0.5, 0], 1.0, 0.0, interpolation=BILINEAR)
    assert half[0, 1].tolist() == [2.0, 4.5, 5.5]  # (0+4)/2 at the zero border, then means
    u8 = TF.rotate(minigrad.tensor([[[0, 100], [200, 255]]], dtype=minigrad.uint8), 180.0)
    assert u8.dtype is minigrad.uint8 and u8.tolist() == [[[255, 200], [100, 0]]]
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported"):
        TF.rotate(img, 10.0, TF.InterpolationMode.BICUBIC)
    with pytest.raises(ValueError, match="Argument scale should be positive"):
        TF.affine(img, 0.0, [0, 0], 0.0, 0.0)


def test_gaussian_blur_and_erase():
    torch = pytest.importorskip("torch")
    img = _image((1, 3, 6, 7))
    got = TF.gaussian_blur(minigrad.tensor(img), [3, 5], [0.8, 1.3])

    def k1(size, sigma):
        x = torch.linspace(-(size - 1) / 2, (size - 1) / 2, size)
        pdf = torch.exp(-0.5 * (x / sigma) ** 2)
        return pdf / pdf.sum()

    kernel = (k1(5, 1.3)[:, None] * k1(3, 0.8)[None]).expand(3, 1, 5, 3)
    padded = torch.nn.functional.pad(torch.tensor(img), [1, 1, 2, 2], mode="reflect")
    want = torch.nn.functional.conv2d(padded, kernel, groups=3)
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-6)
    np.testing.assert_allclose(
        F.gaussian_blur(tv_tensors.Image(img[0]), [3, 5], [0.8, 1.3]).numpy(), want[0], atol=1e-6
    )
    with pytest.raises(ValueError, match="kernel_size should have odd and positive integers"):
        TF.gaussian_blur(minigrad.tensor(img), 4)
    erased = TF.erase(minigrad.zeros(1, 3, 4), 1, 2, 2, 1, minigrad.tensor(5.0))
    assert erased.tolist() == [[[0, 0, 0, 0], [0, 0, 5, 0], [0, 0, 5, 0]]]


def _uniform(torch, low, high):
    return torch.empty(1).uniform_(low, high).item()


def test_random_affine_rotation_blur_draw_as_torchvision():
    torch = pytest.importorskip("torch")
    img = minigrad.rand(3, 8, 10)
    for seed in (0, 1):
        torch.manual_seed(seed)
        angle = _uniform(torch, -20, 20)
        tx = int(round(_uniform(torch, -1.0, 1.0)))
        ty = int(round(_uniform(torch, -1.6, 1.6)))
        rest = [_uniform(torch, 0.8, 1.2), _uniform(torch, -5, 5), _uniform(torch, -3, 3)]
        want = (angle, (tx, ty), rest[0], (rest[1], rest[2]))
        minigrad.manual_seed(seed)
        args = ([-20.0, 20.0], (0.1, 0.2), (0.8, 1.2), [-5.0, 5.0, -3.0, 3.0], [10, 8])
        assert T.RandomAffine.get_params(*args) == want
        minigrad.manual_seed(seed)
        warped = T.RandomAffine(20, (0.1, 0.2), (0.8, 1.2), (-5, 5, -3, 3))(img)
        assert warped.tolist() == TF.affine(img, *want).tolist()
        minigrad.manual_seed(seed)
        sample = v2.RandomAffine(20, (0.1, 0.2), (0.8, 1.2), (-5, 5, -3, 3))(tv_tensors.Image(img))
        assert sample.tolist() == warped.tolist()
    torch.manual_seed(5)
    angle, sigma = _uniform(torch, -30, 30), _uniform(torch, 0.1, 2.0)
    minigrad.manual_seed(5)
    assert T.RandomRotation(30)(img).tolist() == TF.rotate(img, angle).tolist()
    assert T.GaussianBlur(3)(img).tolist() == TF.gaussian_blur(img, 3, sigma).tolist()
    minigrad.manual_seed(5)
    assert v2.RandomRotation(30)(img).tolist() == TF.rotate(img, angle).tolist()


def test_random_erasing_draws_as_torchvision():
    torch = pytest.importorskip("torch")
    img = minigrad.zeros(3, 10, 12)
    torch.manual_seed(2)
    applied = torch.rand(1).item() < 1.0
    log_ratio = torch.log(torch.tensor((0.3, 3.3)))
    while True:  # torchvision's loop, until a window fits
        area = 120 * _uniform(torch, 0.02, 0.33)
        aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        h, w = int(round((area * aspect) ** 0.5)), int(round((area / aspect) ** 0.5))
        if h < 10 and w < 12:
            noise = torch.empty([3, h, w], dtype=torch.float32).normal_()
            i, j = (
                torch.randint(0, 10 - h + 1, (1,)).item(),
                torch.randint(0, 12 - w + 1, (1,)).item(),
            )
            break
    want = torch.zeros(3, 10, 12)
    want[..., i : i + h, j : j + w] = noise
    for erasing in (T.RandomErasing(p=1.0, value="random"), v2.RandomErasing(1.0, value="random")):
        minigrad.manual_seed(2)
        assert applied and np.array_equal(erasing(img).numpy(), want.numpy())
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=[1, 2])(img)


def test_v2_rotation_and_affine_move_boxes_and_masks_with_the_image():
    boxes = tv_tensors.BoundingBoxes([[2, 2, 6, 4]], format="XYXY", canvas_size=(8, 10))
    # turned a quarter counter-clockwise about (5, 4): x' = y - 4 + 5, y' = 5 - x + 4
    assert F.rotate(boxes, 90.0).tolist() == [[3, 3, 5, 7]]
    expanded = F.rotate(boxes, 90.0, expand=True)
    assert expanded.tolist() == [[2, 4, 4, 8]] and expanded.canvas_size == (10, 8)
    cxcywh = tv_tensors.BoundingBoxes([[4.0, 3.0, 4.0, 2.0]], format="CXCYWH", canvas_size=(8, 10))
    # 45 degrees about (5, 4): the centre (-1, -1) from the pivot goes to (-sqrt 2, 0); the
    # enclosing box of a 4x2 box turned 45 degrees is (4 + 2) / sqrt 2 on each side
    root2 = 2**0.5
    want = [[5 - root2, 4.0, 6 / root2, 6 / root2]]
    np.testing.assert_allclose(F.rotate(cxcywh, 45.0).tolist(), want, atol=1e-5)
    assert F.affine(boxes, 0.0, [1, 2], 1.0, 0.0).tolist() == [[3, 4, 7, 6]]
    image = tv_tensors.Image(minigrad.zeros(1, 8, 10))
    image[..., 2:4, 2:6] = 1.0
    mask = tv_tensors.Mask(image[0].to(minigrad.uint8))
    out = v2.RandomRotation((90, 90))({"image": image, "boxes": boxes, "mask": mask})
    assert type(out["mask"]) is tv_tensors.Mask and type(out["boxes"]) is tv_tensors.BoundingBoxes
    ys, xs = np.nonzero(out["mask"].numpy())
    assert [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] == out["boxes"].tolist()[0]
    assert np.array_equal(out["image"][0].numpy(), out["mask"].numpy())


def test_pil_images_rotate_and_warp_through_pil():
    Image = pytest.importorskip("PIL.Image")
    array = np.arange(3 * 4 * 3, dtype=np.uint8).reshape(3, 4, 3)
    pil = Image.fromarray(array)
    assert np.array_equal(np.asarray(TF.rotate(pil, 180.0)), array[::-1, ::-1])
    shifted = np.asarray(TF.affine(pil, 0.0, [1, 0], 1.0, 0.0, fill=[9, 9, 9]))
    assert np.array_equal(shifted[:, 1:], array[:, :-1]) and (shifted[:, 0] == 9).all()
    assert np.asarray(v2.RandomRotation((180, 180))(pil)).tolist() == array[::-1, ::-1].tolist()
    assert T.GaussianBlur(3)(pil).size == (4, 3)


def test_colour_operations_match_pil():
    Image = pytest.importorskip("PIL.Image")
    from PIL import ImageEnhance, ImageOps

    array = np.random.RandomState(0).randint(0, 256, (6, 7, 3)).astype(np.uint8)
    pil, img = Image.fromarray(array), minigrad.tensor(array.transpose(2, 0, 1).copy())
    pairs = [
        (TF.invert(img), ImageOps.invert(pil)),
        (TF.posterize(img, 3), ImageOps.posterize(pil, 3)),
        (TF.solarize(img, 100), ImageOps.solarize(pil, 100)),
        (TF.equalize(img), ImageOps.equalize(pil)),
        (TF.adjust_sharpness(img, 1.7), ImageEnhance.Sharpness(pil).enhance(1.7)),
        (F.autocontrast(tv_tensors.Image(img)), ImageOps.autocontrast(pil)),
    ]
    for ours, theirs in pairs:
        diff = ours.numpy().astype(int) - np.asarray(theirs).transpose(2, 0, 1)
        assert np.abs(diff).max() <= 1 and ours.dtype is minigrad.uint8
    assert TF.invert(minigrad.tensor([[[0.25]]])).tolist() == [[[0.75]]]
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported"):
        TF.posterize(minigrad.zeros(3, 2, 2), 4)
    with pytest.raises(TypeError, match="Threshold should be less than bound of img."):
        TF.solarize(minigrad.zeros(3, 2, 2), 128.0)


_RAND_OPS = ["Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness",
             "Color", "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize"]  # fmt: skip


def _torch_magnitude(torch, name, index, bins, height, width, wide, v2):
    """The magnitude torchvision's tables give ``name`` at bin ``index``."""
    top = 0.99 if wide else 0.9
    tables = {
        "ShearX": (0.99 if wide else 0.3), "ShearY": (0.99 if wide else 0.3),
        "TranslateX": 32.0 if wide else 150.0 / 331.0 * width,
        "TranslateY": 32.0 if wide else 150.0 / 331.0 * height,
        "Rotate": 135.0 if wide else 30.0, "Brightness": top, "Color": top, "Contrast": top,
        "Sharpness": top,
    }  # fmt: skip
    if name in tables:
        return torch.linspace(0.0, tables[name], bins)[index].item(), True
    if name == "Posterize":
        steps = torch.arange(bins) / ((bins - 1) / (6 if wide else 4))
        return ((8 - steps).round().int() if v2 else 8 - steps.round().int())[index].item(), False
    if name == "Solarize":
        return torch.linspace(1.0 if v2 else 255.0, 0.0, bins)[index].item(), False
    return 0.0, False


def test_rand_and_trivial_augment_draw_as_torchvision_v1_and_v2():
    torch = pytest.importorskip("torch")
    from minigrad.vision.transforms.autoaugment import apply_op

    img = minigrad.tensor(np.random.RandomState(1).randint(0, 256, (3, 6, 7)), dtype=minigrad.uint8)
    for seed in range(3):
        for v2_draws in (False, True):
            torch.manual_seed(seed)
            want = img
            for _ in range(2):  # RandAugment(num_ops=2, magnitude=9, bins=31)
                name = _RAND_OPS[int(torch.randint(14, () if v2_draws else (1,)))]
                magnitude, signed = _torch_magnitude(torch, name, 9, 31, 6, 7, False, v2_draws)
                flip = signed and (  # drawn only for signed operations
                    bool(torch.rand(()) <= 0.5) if v2_draws else bool(torch.randint(2, (1,)))
                )
                magnitude = -magnitude if flip else magnitude
                functional = F if v2_draws else TF
                want = apply_op(functional, want, name, magnitude, NEAREST, None, v2=v2_draws)
            minigrad.manual_seed(seed)
            got = (v2.RandAugment() if v2_draws else T.RandAugment())(img)
            assert got.tolist() == want.tolist()
            torch.manual_seed(seed)
            name = _RAND_OPS[int(torch.randint(14, () if v2_draws else (1,)))]
            magnitude, signed = 0.0, False
            if name not in ("Identity", "AutoContrast", "Equalize"):
                index = int(torch.randint(31, () if v2_draws else (1,)))
                magnitude, signed = _torch_magnitude(torch, name, index, 31, 6, 7, True, v2_draws)
            flip = signed and (
                bool(torch.rand(()) <= 0.5) if v2_draws else bool(torch.randint(2, (1,)))
            )
            functional = F if v2_draws else TF
            want = apply_op(functional, img, name, -magnitude if flip else magnitude, NEAREST,
                            None, v2=v2_draws)  # fmt: skip
            minigrad.manual_seed(seed)
            got = (v2.TrivialAugmentWide() if v2_draws else T.TrivialAugmentWide())(img)
            assert got.tolist() == want.tolist()


def test_auto_augment_policies_draw_as_torchvision():
    torch = pytest.importorskip("torch")
    torch.manual_seed(4)
    want = (
        int(torch.randint(25, (1,))),
        torch.rand((2,)).tolist(),
        torch.randint(2, (2,)).tolist(),
    )
    minigrad.manual_seed(4)
    policy_id, probs, signs = T.AutoAugment.get_params(25)
    assert (policy_id, probs.tolist(), signs.tolist()) == want
    img = minigrad.tensor(np.random.RandomState(2).randint(0, 256, (3, 6, 7)), dtype=minigrad.uint8)
    for policy in T.AutoAugmentPolicy:
        for seed in range(3):
            minigrad.manual_seed(seed)
            out = T.AutoAugment(policy)(img)
            assert out.shape == img.shape and out.dtype is minigrad.uint8
            minigrad.manual_seed(seed)
            out = v2.AutoAugment(policy)({"image": tv_tensors.Image(img), "label": 1})
            assert type(out["image"]) is tv_tensors.Image and out["label"] == 1
    policies = T.autoaugment._POLICIES
    assert policies[T.AutoAugmentPolicy.IMAGENET][0] == (("Posterize", 0.4, 8), ("Rotate", 0.6, 9))
    assert policies[T.AutoAugmentPolicy.CIFAR10][3] == (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9))
    assert policies[T.AutoAugmentPolicy.SVHN][24] == (("ShearX", 0.7, 2), ("Invert", 0.1, None))
    assert [len(p) for p in policies.values()] == [25, 25, 25]
    from minigrad.vision.transforms.autoaugment import apply_op

    for seed in range(4):  # v2: the sub-policy, then per operation a probability and a sign
        torch.manual_seed(seed)
        want = img
        for name, p, index in policies[T.AutoAugmentPolicy.SVHN][int(torch.randint(25, ()))]:
            if not torch.rand(()) <= p:
                continue
            magnitude, signed = 0.0, False
            if index is not None:
                magnitude, signed = _torch_magnitude(torch, name, index, 10, 6, 7, False, True)
                magnitude = -magnitude if signed and torch.rand(()) <= 0.5 else magnitude
            want = apply_op(F, want, name, magnitude, NEAREST, None, v2=True)
        minigrad.manual_seed(seed)
        assert v2.AutoAugment(T.AutoAugmentPolicy.SVHN)(img).tolist() == want.tolist()
    boxes = tv_tensors.BoundingBoxes([[0, 0, 1, 1]], format="XYXY", canvas_size=(6, 7))
    with pytest.raises(TypeError, match="Inputs of type BoundingBoxes are not supported"):
        v2.AutoAugment()(tv_tensors.Image(img), boxes)


def test_mixup_and_cutmix_draw_lam_from_beta_as_torchvision():
    torch = pytest.importorskip("torch")
    images = np.random.RandomState(3).rand(4, 3, 8, 10).astype(np.float32)
    labels = [1, 0, 2, 1]
    torch.manual_seed(0)
    lam = float(torch.distributions.Beta(torch.tensor([0.4]), torch.tensor([0.4])).sample(()))
    minigrad.manual_seed(0)
    mixed, mixed_labels = v2.MixUp(alpha=0.4, num_classes=3)(
        minigrad.tensor(images), minigrad.tensor(labels)
    )
    want = lam * images + (1 - lam) * np.roll(images, 1, 0)
    np.testing.assert_allclose(mixed.numpy(), want, atol=1e-6)
    onehot = np.eye(3, dtype=np.float32)[labels]
    np.testing.assert_allclose(
        mixed_labels.numpy(), lam * onehot + (1 - lam) * np.roll(onehot, 1, 0), atol=1e-6
    )
    torch.manual_seed(1)
    lam = float(torch.distributions.Beta(torch.tensor([1.0]), torch.tensor([1.0])).sample(()))
    r_x, r_y = int(torch.randint(10, (1,))), int(torch.randint(8, (1,)))
    r = 0.5 * (1.0 - lam) ** 0.5
    x1, y1 = max(r_x - int(r * 10), 0), max(r_y - int(r * 8), 0)
    x2, y2 = min(r_x + int(r * 10), 10), min(r_y + int(r * 8), 8)
    kept = 1.0 - (x2 - x1) * (y2 - y1) / 80
    minigrad.manual_seed(1)
    batch = {"image": tv_tensors.Image(images), "labels": minigrad.tensor(labels), "id": 7}
    out = v2.CutMix(num_classes=3)(batch)
    want = images.copy()
    want[..., y1:y2, x1:x2] = np.roll(images, 1, 0)[..., y1:y2, x1:x2]
    assert type(out["image"]) is tv_tensors.Image and out["id"] == 7
    np.testing.assert_array_equal(out["image"].numpy(), want)
    np.testing.assert_allclose(
        out["labels"].numpy(), kept * onehot + (1 - kept) * np.roll(onehot, 1, 0), atol=1e-6
    )
    with pytest.raises(ValueError, match="num_classes must be passed if the labels are index"):
        v2.MixUp()(minigrad.tensor(images), minigrad.tensor(labels))
    with pytest.raises(ValueError, match="Expected a batched input with 4 dims, but got 3"):
        v2.MixUp(num_classes=3)(minigrad.tensor(images[0]), minigrad.tensor(labels))


def test_the_cutmix_mixup_tutorials_collate_fn_runs_with_import_torchvision(tmp_path, capsys):
    import minigrad.as_torch

    script = tmp_path / "cutmix.py"
    script.write_text(
        "import torch\n"
        "from torch.utils.data import DataLoader, TensorDataset, default_collate\n"
        "from torchvision.transforms import v2\n"
        "NUM_CLASSES = 5\n"
        "data = TensorDataset(torch.rand(8, 3, 6, 6), torch.randint(0, NUM_CLASSES, (8,)))\n"
        "cutmix = v2.CutMix(num_classes=NUM_CLASSES)\n"
        "mixup = v2.MixUp(num_classes=NUM_CLASSES)\n"
        "cutmix_or_mixup = v2.RandomChoice([cutmix, mixup])\n"
        "def collate_fn(batch):\n"
        "    return cutmix_or_mixup(*default_collate(batch))\n"
        "loader = DataLoader(data, batch_size=4, shuffle=True, collate_fn=collate_fn)\n"
        "for images, labels in loader:\n"
        "    print(tuple(images.shape), tuple(labels.shape), round(float(labels.sum()), 4))\n"
    )
    minigrad.as_torch.run_path(str(script))
    assert capsys.readouterr().out.splitlines() == ["(4, 3, 6, 6) (4, 5) 4.0"] * 2


def test_io_png_round_trip_is_exact_and_jpeg_decodes(tmp_path):
    pytest.importorskip("PIL")
    from minigrad.vision import io

    img = minigrad.tensor(np.random.RandomState(4).randint(0, 256, (3, 5, 7)), dtype=minigrad.uint8)
    io.write_png(img, tmp_path / "a.png")
    back = io.read_image(str(tmp_path / "a.png"))
    assert back.dtype is minigrad.uint8 and np.array_equal(back.numpy(), img.numpy())
    raw = io.read_file(tmp_path / "a.png")
    assert raw.dtype is minigrad.uint8 and raw.ndim == 1 and raw[:4].tolist() == [137, 80, 78, 71]
    assert np.array_equal(io.decode_image(raw).numpy(), img.numpy())
    grey = io.decode_png(raw, mode=io.ImageReadMode.GRAY)
    assert grey.shape == (1, 5, 7) and io.decode_png(raw, mode="RGBA").shape == (4, 5, 7)
    flat = minigrad.full((3, 8, 8), 200, dtype=minigrad.uint8)
    io.write_jpeg(flat, str(tmp_path / "b.jpg"), quality=95)
    decoded = io.read_image(tmp_path / "b.jpg", io.ImageReadMode.RGB)
    assert decoded.shape == (3, 8, 8) and np.abs(decoded.numpy().astype(int) - 200).max() <= 2
    assert [t.shape for t in io.decode_jpeg(io.encode_jpeg([flat, flat[:1]]))] == [
        (3, 8, 8),
        (1, 8, 8),
    ]
    with pytest.raises(ValueError, match="Image quality should be a positive number"):
        io.encode_jpeg(flat, quality=0)
    with pytest.raises(RuntimeError, match="decode_jpeg: the bytes are not JPEG"):
        io.decode_jpeg(raw)
    with pytest.raises(NotImplementedError, match="torchvision.io.read_video is not implemented"):
        io.read_video  # noqa: B018 - the attribute access is what raises


def test_draw_bounding_boxes_and_segmentation_masks():
    pytest.importorskip("PIL")
    from minigrad.vision import utils

    canvas = minigrad.zeros(3, 20, 30, dtype=minigrad.uint8)
    drawn = utils.draw_bounding_boxes(canvas, minigrad.tensor([[2, 3, 10, 12]]), colors="red")
    outline = np.zeros((20, 30), bool)
    outline[3, 2:11] = outline[12, 2:11] = outline[3:13, 2] = outline[3:13, 10] = True
    assert (drawn[0].numpy() == 255 * outline).all() and not drawn[1:].numpy().any()
    box = minigrad.tensor([[2, 3, 25, 18]])
    labelled = utils.draw_bounding_boxes(canvas, box, labels=["cat"], colors="yellow")
    text = labelled[:, 5:17, 4:24].numpy()  # inside the outline: only the label's text
    assert text.any() and not text[2].any()  # written in the box's colour, yellow
    grey = utils.draw_bounding_boxes(minigrad.zeros(1, 4, 4), minigrad.tensor([[0, 0, 3, 3]]),
                                     colors=(255, 0, 0), fill=True)  # fmt: skip
    assert grey.shape == (3, 4, 4) and grey.dtype is minigrad.float32 and grey[0, 0, 0] == 1.0
    with pytest.raises(ValueError, match="Boxes need to be in \\(xmin, ymin, xmax, ymax\\)"):
        utils.draw_bounding_boxes(canvas, minigrad.tensor([[5, 0, 2, 3]]))
    masks = minigrad.zeros(2, 20, 30, dtype=minigrad.bool)
    masks[0, :5], masks[1, 3:8] = True, True
    painted = utils.draw_segmentation_masks(canvas, masks, alpha=0.5, colors=["blue", (0, 255, 0)])
    assert painted[:, [1, 4, 6, 9], 0].tolist() == [[0, 0, 0, 0], [0, 0, 127, 0], [127, 0, 0, 0]]
    with pytest.raises(ValueError, match="The masks must be of dtype bool"):
        utils.draw_segmentation_masks(canvas, masks.to(minigrad.uint8))


def test_perspective_matches_torchvisions_coefficients_grid_and_draws():
    torch = pytest.importorskip("torch")
    from minigrad.vision.transforms._warp import perspective_coeffs

    start, end = [[0, 0], [7, 0], [7, 5], [0, 5]], [[1, 1], [6, 0], [7, 4], [0, 5]]
    rows = torch.zeros(8, 8, dtype=torch.float64)
    for i, ((x, y), (u, v)) in enumerate(zip(end, start)):
        rows[2 * i] = torch.tensor([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows[2 * i + 1] = torch.tensor([0, 0, 0, x, y, 1, -v * x, -v * y])
    target = torch.tensor(start, dtype=torch.float64).view(8)
    c = torch.linalg.lstsq(rows, target, driver="gels").solution.to(torch.float32).tolist()
    assert perspective_coeffs(start, end) == c
    base = torch.ones(1, 6, 8, 3)
    base[..., 0], base[..., 1] = torch.linspace(0.5, 7.5, 8), torch.linspace(0.5, 5.5, 6)[:, None]
    flat = base.view(1, -1, 3)
    numer = flat.bmm(torch.tensor([[c[:3], c[3:6]]]).transpose(1, 2) / torch.tensor([4.0, 3.0]))
    denom = flat.bmm(torch.tensor([[[c[6], c[7], 1.0]] * 2]).transpose(1, 2))
    img = _image((1, 3, 6, 8))
    grid = (numer / denom - 1.0).view(1, 6, 8, 2)
    want = torch.nn.functional.grid_sample(torch.tensor(img), grid, align_corners=False)
    np.testing.assert_allclose(
        TF.perspective(minigrad.tensor(img), start, end).numpy(), want, atol=1e-6
    )
    corners = tv_tensors.BoundingBoxes([[0.0, 0.0, 0.0, 0.0], [7.0, 5.0, 7.0, 5.0]], format="XYXY",
                                       canvas_size=(6, 8))  # fmt: skip
    np.testing.assert_allclose(F.perspective(corners, start, end).tolist(), [[1, 1, 1, 1], [7, 4, 7, 4]],
                               atol=1e-4)  # fmt: skip  # corners go where the endpoints say
    torch.manual_seed(0)
    draws = [int(torch.randint(lo, hi, (1,))) for lo, hi in
             [(0, 3), (0, 2), (5, 8), (0, 2), (5, 8), (4, 6), (0, 3), (4, 6)]]  # fmt: skip
    minigrad.manual_seed(0)
    points = T.RandomPerspective.get_params(8, 6, 0.5)
    assert points == (start, [draws[0:2], draws[2:4], draws[4:6], draws[6:8]])
    torch.manual_seed(0)
    applied = torch.rand(1).item() < 0.5
    rest = [int(torch.randint(lo, hi, (1,))) for lo, hi in
            [(0, 3), (0, 2), (5, 8), (0, 2), (5, 8), (4, 6), (0, 3), (4, 6)]]  # fmt: skip
    pts = [rest[0:2], rest[2:4], rest[4:6], rest[6:8]]
    minigrad.manual_seed(0)
    out = v2.RandomPerspective()(tv_tensors.Image(img[0]))
    want = (
        TF.perspective(minigrad.tensor(img[0]), start, pts, fill=[0.0] * 3) if applied else img[0]
    )
    np.testing.assert_allclose(out.numpy(), np.asarray(want), atol=1e-6)


def test_warps_are_differentiable():
    x = minigrad.rand(1, 2, 4, 5, dtype=minigrad.float64, requires_grad=True)
    assert minigrad.autograd.gradcheck(
        lambda t: TF.affine(t, 20.0, [1, 0], 1.1, [5.0, 0.0], BILINEAR, fill=[0.5, 0.5]), (x,)
    )
    assert minigrad.autograd.gradcheck(lambda t: TF.gaussian_blur(t, 3, 0.9), (x,))


def test_random_colour_operations_v1_and_v2():
    torch = pytest.importorskip("torch")
    img = minigrad.tensor(np.random.RandomState(5).randint(0, 256, (3, 4, 5)), dtype=minigrad.uint8)
    torch.manual_seed(0)
    applied = [torch.rand(1).item() < 0.5 for _ in range(6)]
    cases = [("RandomInvert", (), TF.invert), ("RandomPosterize", (3,), TF.posterize),
             ("RandomSolarize", (100,), TF.solarize),
             ("RandomAdjustSharpness", (2.0,), TF.adjust_sharpness),
             ("RandomAutocontrast", (), TF.autocontrast), ("RandomEqualize", (), TF.equalize)]  # fmt: skip
    for module in (T, v2):
        minigrad.manual_seed(0)
        for (name, args, op), hit in zip(cases, applied):
            want = op(img, *args) if hit else img
            assert getattr(module, name)(*args, 0.5)(img).tolist() == want.tolist()
    assert T.RandomPosterize(bits=2, p=1.0)(img).tolist() == TF.posterize(img, 2).tolist()
    assert repr(v2.RandomSolarize(threshold=9)).startswith("RandomSolarize(")
    with pytest.raises(TypeError, match="missing required argument: 'bits'"):
        v2.RandomPosterize(p=1.0)


def _torch_augmix(torch, img, v2_draws, severity=3, width=3, alpha=1.0):
    """torchvision's AugMix draws, reproduced with PyTorch's generator; the operations are
    applied with minigrad's own (checked against PIL and by hand above)."""
    from minigrad.vision.transforms.autoaugment import apply_op, augmentation_space

    space = augmentation_space("augmix-all", 10, *img.shape[-2:], v2=v2_draws)
    batch = img[None]
    m = torch._sample_dirichlet(torch.tensor([alpha, alpha]).expand(1, -1))
    weights = torch._sample_dirichlet(torch.tensor([alpha] * width).expand(1, -1)) * m[:, 1:]
    mix = float(m[0, 0]) * batch.float()
    for i in range(width):
        aug = batch
        for _ in range(int(torch.randint(1, 4, (1,)))):
            name = list(space)[int(torch.randint(len(space), () if v2_draws else (1,)))]
            magnitudes, signed = space[name]
            magnitude = 0.0
            if magnitudes is not None:
                magnitude = float(
                    magnitudes[int(torch.randint(severity, () if v2_draws else (1,)))]
                )
            flip = signed and (  # drawn only for signed operations
                bool(torch.rand(()) <= 0.5) if v2_draws else bool(torch.randint(2, (1,)))
            )
            magnitude = -magnitude if flip else magnitude
            aug = apply_op(F if v2_draws else TF, aug, name, magnitude, BILINEAR, None, v2=v2_draws)
        mix = mix + float(weights[0, i]) * aug
    return mix[0].to(img.dtype)


def test_augmix_draws_as_torchvision_v1_and_v2():
    torch = pytest.importorskip("torch")
    img = minigrad.tensor(np.random.RandomState(6).randint(0, 256, (3, 6, 7)), dtype=minigrad.uint8)
    for v2_draws in (False, True):
        torch.manual_seed(1)
        want = _torch_augmix(torch, img, v2_draws)
        minigrad.manual_seed(1)
        got = (v2.AugMix() if v2_draws else T.AugMix())(img)
        assert got.tolist() == want.tolist()
    with pytest.raises(ValueError, match="The severity must be between \\[1, 10\\]"):
        T.AugMix(severity=11)


def test_v2_posterize_and_equalize_take_float_images_as_torchvision_v2():
    x = minigrad.tensor([[[0.1, 0.3, 0.6, 0.99]]])
    assert F.posterize(x, 2).tolist() == [[[0.0, 0.25, 0.5, 0.75]]]
    u8 = minigrad.tensor(
        np.random.RandomState(7).randint(0, 256, (2, 3, 4, 5)), dtype=minigrad.uint8
    )
    assert F.equalize(u8).tolist() == TF.equalize(u8).tolist()
    as_float = F.to_dtype(u8, minigrad.float32, scale=True)
    want = F.to_dtype(TF.equalize(u8), minigrad.float32, scale=True)
    assert F.equalize(as_float).tolist() == want.tolist()
    minigrad.manual_seed(0)
    assert v2.AugMix()(as_float[0]).dtype is minigrad.float32
    with pytest.raises(TypeError, match="bits must be a positive integer in the range \\[0, 8\\]"):
        F.posterize(u8, 9)
