"""torchvision.transforms.v2 and tv_tensors on minigrad: box geometry by hand, detection
samples whose image, masks and boxes move together, torchvision's random draws, dtypes and
scaling, and torchvision's error messages."""

import colorsys
import textwrap

import numpy as np
import pytest

import minigrad
from minigrad.vision import tv_tensors
from minigrad.vision.ops import masks_to_boxes
from minigrad.vision.transforms import v2
from minigrad.vision.transforms.v2 import functional as F

XYXY, XYWH, CXCYWH = "XYXY", "XYWH", "CXCYWH"


def boxes_of(values, fmt=XYXY, canvas=(10, 20), dtype=minigrad.float32):
    return tv_tensors.BoundingBoxes(values, format=fmt, canvas_size=canvas, dtype=dtype)


def test_ops_on_tv_tensors_return_plain_tensors_except_clone_and_to():
    img = tv_tensors.Image(minigrad.zeros(4, 5))
    assert isinstance(img, tv_tensors.Image) and img.shape == (1, 4, 5)
    boxes = boxes_of([1, 2, 3, 4])  # one box, made [1, 4]
    assert boxes.shape == (1, 4) and boxes.format is tv_tensors.BoundingBoxFormat.XYXY
    assert type(img + 1) is minigrad.Tensor and type(boxes * 2) is minigrad.Tensor
    assert type(img.flip(-1)) is minigrad.Tensor
    copied = boxes.to(minigrad.float64)
    assert type(copied) is tv_tensors.BoundingBoxes and copied.canvas_size == (10, 20)
    assert type(boxes.clone()) is tv_tensors.BoundingBoxes and boxes.clone().format == boxes.format
    with tv_tensors.set_return_type("TVTensor"):
        assert type(boxes + 1) is tv_tensors.BoundingBoxes and (boxes + 1).canvas_size == (10, 20)
    assert type(boxes + 1) is minigrad.Tensor
    wrapped = tv_tensors.wrap(minigrad.ones(2, 4), like=boxes, canvas_size=(3, 3))
    assert wrapped.canvas_size == (3, 3) and wrapped.format == boxes.format
    assert repr(boxes).startswith("BoundingBoxes([[1., 2., 3., 4.]]")
    with pytest.raises(KeyError, match="XYZ"):
        boxes_of([1, 2, 3, 4], fmt="xyz")
    with pytest.raises(ValueError, match="clamping_mode must be None, hard or soft"):
        tv_tensors.BoundingBoxes([1, 2, 3, 4], format=XYXY, canvas_size=(5, 5), clamping_mode="x")
    with pytest.raises(NotImplementedError, match="rotated"):
        boxes_of([1, 2, 3, 4, 5], fmt="XYWHR")


@pytest.mark.parametrize(
    "fmt, box, hflipped, vflipped",
    [
        (XYXY, [2, 1, 8, 4], [12, 1, 18, 4], [2, 6, 8, 9]),
        (XYWH, [2, 1, 6, 3], [12, 1, 6, 3], [2, 6, 6, 3]),
        (CXCYWH, [5, 2.5, 6, 3], [15, 2.5, 6, 3], [5, 7.5, 6, 3]),
    ],
)
def test_flips_mirror_boxes_across_the_canvas(fmt, box, hflipped, vflipped):
    boxes = boxes_of([box], fmt)  # canvas H=10, W=20
    assert F.horizontal_flip(boxes).tolist() == [hflipped]
    assert F.vertical_flip(boxes).tolist() == [vflipped]
    assert F.horizontal_flip(boxes).format.value == fmt


def test_crop_pad_resize_and_formats_move_boxes_by_hand_computed_amounts():
    boxes = boxes_of([[2, 3, 8, 7]])  # XYXY on H=10, W=20
    cropped = F.crop(boxes, top=2, left=4, height=6, width=10)  # [-2, 1, 4, 5], clamped
    assert cropped.tolist() == [[0, 1, 4, 5]] and cropped.canvas_size == (6, 10)
    padded = F.pad(boxes, [1, 2, 3, 4])  # left, top, right, bottom
    assert padded.tolist() == [[3, 5, 9, 9]] and padded.canvas_size == (16, 24)
    resized = F.resize(boxes, [20, 30])  # x * 1.5, y * 2
    assert resized.tolist() == [[3, 6, 12, 14]] and resized.canvas_size == (20, 30)
    assert F.resize(boxes, 5).canvas_size == (5, 10)  # the shorter side
    assert v2.Resize(None, max_size=8)(boxes).canvas_size == (4, 8)  # the longer side
    centre = F.center_crop(boxes, [6, 10])  # top 2, left 5
    assert centre.tolist() == [[0, 1, 3, 5]] and centre.canvas_size == (6, 10)
    image = tv_tensors.Image(minigrad.zeros(1, 10, 20))
    image[:, 3:7, 2:8] = 1  # the box's pixels
    for size in ([13, 20], [13, 23], [7, 25]):  # larger windows pad: the box stays on its pixels
        window, moved = v2.CenterCrop(size)(image, boxes)
        rows, cols = np.nonzero(window.numpy()[0])
        x1, y1, x2, y2 = moved.tolist()[0]
        assert (x1, y1, x2, y2) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    xywh = F.convert_bounding_box_format(boxes, new_format=XYWH)
    assert xywh.tolist() == [[2, 3, 6, 4]] and xywh.format.value == XYWH
    cxcywh = v2.ConvertBoundingBoxFormat("cxcywh")(boxes)
    assert cxcywh.tolist() == [[5, 5, 6, 4]]
    assert F.convert_bounding_box_format(cxcywh, new_format=XYXY).tolist() == [[2, 3, 8, 7]]
    plain = minigrad.tensor([[2.0, 3.0, 6.0, 4.0]])
    assert F.convert_bounding_box_format(plain, XYWH, XYXY).tolist() == [[2, 3, 8, 7]]
    outside = boxes_of([[-5, 2, 25, 12]])
    assert v2.ClampBoundingBoxes()(outside).tolist() == [[0, 2, 20, 10]]
    ints = boxes_of([[2, 3, 8, 7]], XYXY, dtype=minigrad.int64)
    assert F.resize(ints, [15, 30]).dtype is minigrad.int64
    assert F.resize(ints, [15, 30]).tolist() == [[3, 4, 12, 10]]  # truncated, as torchvision
    labels = tv_tensors.Mask(minigrad.tensor([[0, 300], [7, 1000]]))  # resized as labels
    assert F.resize(labels, [4, 4]).tolist() == [[0, 0, 300, 300]] * 2 + [[7, 7, 1000, 1000]] * 2


def test_sanitize_drops_small_and_outside_boxes_with_their_labels_and_masks():
    boxes = boxes_of([[0, 0, 5, 5], [3, 3, 3.5, 8], [1, 1, 30, 4], [4, 4, 9, 6]])
    masks = tv_tensors.Mask(minigrad.arange(4).reshape(4, 1, 1).expand(4, 10, 20).clone())
    sample = {"boxes": boxes, "masks": masks, "labels": minigrad.tensor([1, 2, 3, 4]), "id": 7}
    out = v2.SanitizeBoundingBoxes()(sample)
    assert out["boxes"].tolist() == [[0, 0, 5, 5], [4, 4, 9, 6]]
    assert out["labels"].tolist() == [1, 4] and out["id"] == 7
    assert out["masks"][:, 0, 0].tolist() == [0, 3] and type(out["masks"]) is tv_tensors.Mask
    kept = v2.SanitizeBoundingBoxes(min_size=3)(sample)
    assert kept["labels"].tolist() == [1]
    with pytest.raises(ValueError, match="Could not infer where the labels are"):
        v2.SanitizeBoundingBoxes()({"boxes": boxes, "cls": minigrad.zeros(4)})
    with pytest.raises(ValueError, match="must match the number of labels"):
        v2.SanitizeBoundingBoxes()({"boxes": boxes, "labels": minigrad.zeros(3)})


def _detection_sample(rng):
    """A uint8 image whose first channel is 255 on each object's mask, the masks, and the
    boxes around them (so after any flip, crop, pad or nearest resize all three must agree)."""
    masks = np.zeros((2, 12, 16), np.uint8)
    masks[0, 2:6, 3:9] = 1
    masks[1, 7:11, 10:15] = 1
    image = rng.integers(0, 200, (3, 12, 16)).astype(np.uint8)
    image[0] = 255 * masks.max(0)
    boxes = [[3, 2, 9, 6], [10, 7, 15, 11]]
    return {
        "image": tv_tensors.Image(minigrad.tensor(image)),
        "boxes": tv_tensors.BoundingBoxes(boxes, format=XYXY, canvas_size=(12, 16)),
        "masks": tv_tensors.Mask(minigrad.tensor(masks)),
        "labels": minigrad.tensor([5, 6]),
        "path": "img0.png",
    }


def test_a_detection_pipeline_moves_image_masks_and_boxes_together():
    pipeline = v2.Compose(
        [
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.RandomCrop((10, 14), padding=1),
            v2.Resize((20, 28), interpolation=v2.InterpolationMode.NEAREST),
            v2.SanitizeBoundingBoxes(),
            v2.ToDtype(minigrad.float32, scale=True),
        ]
    )
    rng = np.random.default_rng(0)
    minigrad.manual_seed(1)
    for _ in range(6):
        out = pipeline(_detection_sample(rng))
        image, boxes, masks = out["image"], out["boxes"], out["masks"]
        assert type(image) is tv_tensors.Image and image.dtype is minigrad.float32
        assert image.shape == (3, 20, 28) and boxes.canvas_size == (20, 28)
        assert masks.shape[1:] == (20, 28) and masks.dtype is minigrad.uint8
        assert out["path"] == "img0.png" and len(out["labels"]) == len(boxes) == len(masks)
        assert np.array_equal(image[0].numpy(), masks.numpy().max(0).astype(np.float32))
        around = masks_to_boxes(masks.as_subclass(minigrad.Tensor)) + minigrad.tensor([0, 0, 1, 1])
        assert np.array_equal(around.numpy(), boxes.numpy())


def test_random_draws_follow_torchvision_order_under_the_same_seed():
    torch = pytest.importorskip("torch")
    img = tv_tensors.Image(minigrad.arange(3 * 12 * 16).reshape(3, 12, 16).float())
    boxes = boxes_of([[1, 1, 5, 5]], canvas=(12, 16))
    torch.manual_seed(4)
    flips = [bool(torch.rand(1) < 0.5) for _ in range(6)]
    # RandomCrop((8, 10), padding=2): padded 16×20, top then left, as 0-d draws
    top, left = int(torch.randint(0, 16 - 8 + 1, size=())), int(torch.randint(0, 20 - 10 + 1, ()))
    applied = bool(torch.rand(1) < 0.5)  # RandomApply, then RandomOrder, then RandomChoice
    shuffled = torch.randperm(3).tolist()
    chosen = int(torch.multinomial(torch.tensor([0.2, 0.3, 0.5]), 1))
    order = torch.randperm(4).tolist()
    factors = [float(torch.empty(1).uniform_(lo, hi)) for lo, hi in [(0.5, 1.5), (0.7, 1.3)]]
    hue = float(torch.empty(1).uniform_(-0.1, 0.1))
    minigrad.manual_seed(4)
    flip = v2.RandomHorizontalFlip()
    for flipped in flips:
        out = flip({"img": img, "boxes": boxes})
        assert out["boxes"].tolist() == ([[11, 1, 15, 5]] if flipped else [[1, 1, 5, 5]])
        assert np.array_equal(
            out["img"].numpy(), img.numpy()[..., ::-1] if flipped else img.numpy()
        )
    cropped, cropped_boxes = v2.RandomCrop((8, 10), padding=2)(img, boxes)
    expected = np.pad(img.numpy(), [(0, 0), (2, 2), (2, 2)])[:, top : top + 8, left : left + 10]
    assert np.array_equal(cropped.numpy(), expected)
    assert cropped_boxes.tolist() == F.crop(F.pad(boxes, 2), top, left, 8, 10).tolist()
    calls = []
    steps = [v2.Lambda(lambda x, k=k: calls.append(k) or x) for k in range(3)]
    v2.RandomApply(steps[:1])(img)
    v2.RandomOrder(steps)(img)
    v2.RandomChoice(steps, p=[2, 3, 5])(img)
    assert calls == [0] * applied + shuffled + [chosen]
    params = v2.ColorJitter(brightness=0.5, contrast=0.3, hue=0.1).make_params([img])
    assert params["order"] == order and params["factors"][:2] == pytest.approx(factors)
    assert params["factors"][3] == pytest.approx(hue)
    # RandomResizedCrop draws its window as v1's get_params (checked against torch in
    # test_vision.py), from the sample's size
    minigrad.manual_seed(9)
    window = v2.RandomResizedCrop(8).make_params([img, boxes])
    minigrad.manual_seed(9)
    from minigrad.vision.transforms import RandomResizedCrop as V1RandomResizedCrop

    v1 = V1RandomResizedCrop.get_params(
        img.as_subclass(minigrad.Tensor), (0.08, 1.0), (3 / 4, 4 / 3)
    )
    assert tuple(window.values()) == v1
    mask = tv_tensors.Mask(minigrad.ones(12, 16, dtype=minigrad.uint8))
    minigrad.manual_seed(9)
    out_img, out_boxes, out_mask = v2.RandomResizedCrop(8)(img, boxes, mask)
    assert out_img.shape == (3, 8, 8) and out_mask.shape == (8, 8)
    expected = F.resize(F.crop(boxes, *v1), [8, 8])
    assert out_boxes.tolist() == expected.tolist() and out_boxes.canvas_size == (8, 8)
    assert np.allclose(out_img.numpy(), F.resized_crop(img, *v1, size=[8, 8]).numpy())


def test_plain_tensors_heuristic_and_pass_through_of_other_values():
    flip = v2.RandomHorizontalFlip(p=1)
    a, b = minigrad.arange(4.0).reshape(1, 2, 2), minigrad.arange(4.0).reshape(1, 2, 2)
    out_a, out_b, label, text = flip(a, b, 3, "x")
    assert out_a.tolist() == [[[1, 0], [3, 2]]] and out_b.tolist() == b.tolist()  # first only
    assert (label, text) == (3, "x") and type(out_a) is minigrad.Tensor
    image = tv_tensors.Image(a)
    out_plain, out_image = flip([b, image])
    assert out_plain.tolist() == b.tolist() and out_image.tolist() == [[[1, 0], [3, 2]]]
    assert type(out_image) is tv_tensors.Image
    assert type(v2.ToPureTensor()(out_image)) is minigrad.Tensor


def test_to_dtype_scales_images_only_and_to_image_reads_pil_and_arrays():
    PIL = pytest.importorskip("PIL.Image")
    pixels = np.array([[[0, 128], [255, 51]]], np.uint8).transpose(1, 2, 0)  # H×W×1
    image = v2.ToImage()(PIL.fromarray(pixels[..., 0]))
    assert type(image) is tv_tensors.Image and image.dtype is minigrad.uint8
    assert image.tolist() == [[[0, 128], [255, 51]]]
    assert v2.ToImage()(pixels).tolist() == image.tolist()
    mask = tv_tensors.Mask(minigrad.ones(2, 2, dtype=minigrad.uint8))
    scaled, same_mask = v2.ToDtype(minigrad.float32, scale=True)(image, mask)
    assert np.allclose(scaled.numpy(), [[[0, 128 / 255], [1, 0.2]]])
    assert same_mask.dtype is minigrad.uint8
    raw = v2.ToDtype(minigrad.float32)(image)
    assert raw.tolist() == [[[0, 128], [255, 51]]] and type(raw) is tv_tensors.Image
    per_kind = v2.ToDtype({tv_tensors.Image: minigrad.float64, tv_tensors.Mask: minigrad.int64,
                           "others": None}, scale=True)  # fmt: skip
    img64, mask64 = per_kind(image, mask)
    assert img64.dtype is minigrad.float64 and mask64.dtype is minigrad.int64
    assert type(mask64) is tv_tensors.Mask and mask64.tolist() == [[1, 1], [1, 1]]
    back = F.to_dtype(scaled, minigrad.uint8, scale=True)
    assert back.tolist() == image.tolist() and type(back) is tv_tensors.Image
    with pytest.raises(RuntimeError, match="The conversion from .* cannot be performed safely"):
        F.to_dtype(scaled, minigrad.int64, scale=True)
    with pytest.raises(ValueError, match="No dtype was specified for type"):
        v2.ToDtype({tv_tensors.Image: minigrad.float32})(image, mask)


def test_errors_in_torchvisions_words():
    img = tv_tensors.Image(minigrad.zeros(3, 10, 20))
    wrong = boxes_of([[1, 1, 4, 4]], canvas=(12, 20))
    with pytest.raises(ValueError, match=r"Found multiple HxW dimensions in the sample: "):
        v2.RandomCrop(5)(img, wrong)
    with pytest.raises(KeyError):
        v2.ConvertBoundingBoxFormat("XYZW")
    with pytest.raises(ValueError, match="For pure tensor inputs, `old_format` has to be passed"):
        F.convert_bounding_box_format(minigrad.zeros(1, 4), new_format=XYWH)
    with pytest.raises(ValueError, match="Padding mode 'reflect' is not supported with bounding"):
        v2.Pad(2, padding_mode="reflect")(img, boxes_of([[1, 1, 4, 4]]))
    with pytest.raises(TypeError, match="Functional F.horizontal_flip supports inputs of type"):
        F.horizontal_flip("not an image")
    with pytest.raises(ValueError, match=r"Required crop size \(30, 30\) is larger than"):
        v2.RandomCrop(30)(img)
    with pytest.raises(TypeError, match="requires input sample to contain tensor or PIL images"):
        v2.RandomIoUCrop()(img)
    with pytest.raises(ValueError, match="Pass at least one transform"):
        v2.Compose([])


def test_photometric_distort_and_iou_crop_on_a_detection_sample():
    torch = pytest.importorskip("torch")
    rgb = np.random.default_rng(2).random((3, 4, 5)).astype(np.float32)
    rotated = F.adjust_hue(tv_tensors.Image(minigrad.tensor(rgb)), 0.2).numpy()
    for y, x in [(0, 0), (3, 4)]:
        h, s, v = colorsys.rgb_to_hsv(*rgb[:, y, x])
        assert rotated[:, y, x] == pytest.approx(colorsys.hsv_to_rgb((h + 0.2) % 1, s, v), abs=1e-6)
    torch.manual_seed(5)
    draws = [(bool(torch.rand(1) < 1.0), float(torch.empty(1).uniform_(*r)))
             for r in [(0.875, 1.125), (0.5, 1.5), (0.5, 1.5), (-0.05, 0.05)]]  # fmt: skip
    contrast_before = bool(torch.rand(()) < 0.5)
    torch.rand(1)
    permutation = torch.randperm(3).tolist()
    image = tv_tensors.Image(minigrad.tensor(rgb))
    minigrad.manual_seed(5)
    out = v2.RandomPhotometricDistort(p=1.0)(image)
    (_, b), (_, c), (_, s), (_, h) = draws
    expected = F.adjust_brightness(image, b)
    expected = F.adjust_contrast(expected, c) if contrast_before else expected
    expected = F.adjust_hue(F.adjust_saturation(expected, s), h)
    expected = expected if contrast_before else F.adjust_contrast(expected, c)
    assert np.allclose(out.numpy(), expected.numpy()[permutation], atol=1e-6)
    minigrad.manual_seed(0)
    sample = _detection_sample(np.random.default_rng(1))
    for _ in range(3):
        out = v2.Compose([v2.RandomIoUCrop(), v2.SanitizeBoundingBoxes()])(sample)
        assert out["image"].shape[-2:] == tuple(out["masks"].shape[-2:])
        assert out["boxes"].canvas_size == tuple(out["image"].shape[-2:])
        assert len(out["boxes"]) == len(out["labels"]) >= 1


def test_the_detection_tutorials_dataset_and_transforms_run_with_import_torchvision(
    tmp_path, capsys
):
    import minigrad.as_torch

    script = tmp_path / "finetune.py"
    script.write_text(
        textwrap.dedent("""
        import torch
        from torchvision import tv_tensors
        from torchvision.ops.boxes import masks_to_boxes
        from torchvision.transforms import v2 as T
        from torchvision.transforms.v2 import functional as F

        class PennFudanLike(torch.utils.data.Dataset):
            def __init__(self, transforms):
                self.transforms = transforms
            def __len__(self):
                return 2
            def __getitem__(self, idx):
                img = torch.randint(0, 256, (3, 12, 16), dtype=torch.uint8)
                mask = torch.zeros(12, 16, dtype=torch.uint8)
                mask[2:6, 3:9], mask[7:11, 10:15] = 1, 2
                obj_ids = torch.unique(mask)[1:]
                masks = (mask == obj_ids[:, None, None]).to(dtype=torch.uint8)
                boxes = masks_to_boxes(masks)
                target = {
                    "boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=F.get_size(img)),
                    "masks": tv_tensors.Mask(masks),
                    "labels": torch.ones((len(obj_ids),), dtype=torch.int64),
                    "image_id": idx,
                }
                return self.transforms(tv_tensors.Image(img), target)

        def get_transform(train):
            transforms = [T.RandomHorizontalFlip(0.5)] if train else []
            transforms += [T.ToDtype(torch.float, scale=True), T.ToPureTensor()]
            return T.Compose(transforms)

        torch.manual_seed(0)
        loader = torch.utils.data.DataLoader(
            PennFudanLike(get_transform(train=True)), batch_size=2,
            collate_fn=lambda batch: tuple(zip(*batch)))
        images, targets = next(iter(loader))
        print(type(images[0]).__name__, images[0].dtype, targets[0]["boxes"].tolist()[0][1:4:2])
        print(hasattr(T, "ElasticTransform"), sorted(targets[1]))
    """)
    )
    minigrad.as_torch.run_path(str(script))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Tensor torch.float32 [2.0, 5.0]",
        "True ['boxes', 'image_id', 'labels', 'masks']",
    ]
    with pytest.raises(NotImplementedError, match="v2.FiveCrop is not implemented"):
        v2.FiveCrop(2)


def test_a_tv_tensor_of_your_own_with_a_registered_kernel():
    class Heatmap(tv_tensors.TVTensor):
        pass

    @F.register_kernel(functional="hflip", tv_tensor_cls=Heatmap)
    def hflip_heatmap(heatmap):
        return tv_tensors.wrap(heatmap.as_subclass(minigrad.Tensor).flip(-1) * 10, like=heatmap)

    heat = minigrad.tensor([[1.0, 2.0]]).as_subclass(Heatmap)
    img = tv_tensors.Image(minigrad.zeros(1, 1, 2))
    out_img, out_heat, out_again = v2.Compose([v2.RandomHorizontalFlip(p=1), v2.Resize(1)])(
        img, heat, heat
    )
    assert type(out_heat) is Heatmap and out_heat.tolist() == [[20, 10]]  # resize: passed through
    assert out_again.tolist() == [[20, 10]] and out_img.shape == (1, 1, 2)  # every TVTensor
    with pytest.raises(ValueError, match="already has a kernel registered"):
        F.register_kernel(F.horizontal_flip, Heatmap)(hflip_heatmap)
    with pytest.raises(ValueError, match="cannot be registered for the builtin tv_tensor"):
        F.register_kernel("resize", tv_tensors.Mask)
    with pytest.raises(ValueError, match="Could not find functional with name 'spin'"):
        F.register_kernel("spin", Heatmap)


def test_a_detection_sample_stays_on_its_device(device):
    sample = _detection_sample(np.random.default_rng(3))
    sample = {k: v.to(device) if isinstance(v, minigrad.Tensor) else v for k, v in sample.items()}
    pipeline = v2.Compose(
        [
            v2.RandomPhotometricDistort(p=1.0),
            v2.RandomIoUCrop(),
            v2.Pad(1),
            v2.Resize(20),
            v2.ClampBoundingBoxes(),
            v2.SanitizeBoundingBoxes(),
            v2.ToDtype(minigrad.float32, scale=True),
            v2.Normalize([0.5] * 3, [0.25] * 3),
        ]
    )
    out = pipeline(sample)
    for key in ("image", "boxes", "masks", "labels"):
        assert out[key].device.type == minigrad.device(device).type, key
    assert (
        out["boxes"].canvas_size == tuple(out["image"].shape[-2:]) == tuple(out["masks"].shape[-2:])
    )


def test_int_to_float_scaling_is_torchvisions_to_the_last_bit():
    """v2 multiplies by 1/255 where v1 divides by 255: the results differ in the last bit, as
    torchvision's two do."""
    from minigrad.vision.transforms import functional as F1

    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    image = minigrad.tensor(pixels)
    v2_scaled = F.to_dtype(tv_tensors.Image(image), minigrad.float32, scale=True).numpy()
    v1_scaled = F1.convert_image_dtype(image, minigrad.float32).numpy()
    assert np.array_equal(v2_scaled, pixels.astype(np.float32) * np.float32(1.0 / 255))
    assert np.array_equal(v1_scaled, pixels.astype(np.float32) / np.float32(255))
    assert not np.array_equal(v1_scaled, v2_scaled)
