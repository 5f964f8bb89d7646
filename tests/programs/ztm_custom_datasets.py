"""Zero to Mastery's PyTorch course, notebook 04 (custom datasets): a pizza/steak/sushi folder
tree written as PNGs in a ``tempfile`` dir with PIL, ``walk_through_dir`` with ``os.walk``,
``find_classes`` via ``os.scandir``, ``ImageFolderCustom(Dataset)`` with ``pathlib`` globbing,
``load_image`` and a transform (resize, random horizontal flip, to-tensor written with
``torch.from_numpy(np.array(img)).permute(2, 0, 1)`` since torchvision is not installed beside
PyTorch here), ``DataLoader(..., num_workers=0)``, the ``set_seeds`` helper, TinyVGG trained
with the engine-style loop, and ``pred_and_plot_image``'s prediction (``unsqueeze(dim=0)``,
``torch.softmax``, ``argmax``) without the plotting."""

import os
import pathlib
import tempfile
from typing import Dict, List, Tuple

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset


def set_seeds(seed: int = 42):
    torch.manual_seed(seed)
    torch.cuda.manual_seed(seed)


def walk_through_dir(dir_path):
    found = []
    for dirpath, dirnames, filenames in os.walk(dir_path):
        found.append((len(dirnames), len(filenames)))
    return sorted(found)


def find_classes(directory: str) -> Tuple[List[str], Dict[str, int]]:
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any classes in {directory}.")
    class_to_idx = {cls_name: i for i, cls_name in enumerate(classes)}
    return classes, class_to_idx


def data_transform(img, flip=True):
    img = img.resize((8, 8))
    tensor = torch.from_numpy(np.array(img)).permute(2, 0, 1).float() / 255.0
    if flip and torch.rand(1) < 0.5:
        tensor = tensor.flip(-1)
    return tensor


class ImageFolderCustom(Dataset):
    def __init__(self, targ_dir: str, transform=None) -> None:
        self.paths = sorted(pathlib.Path(targ_dir).glob("*/*.png"))
        self.transform = transform
        self.classes, self.class_to_idx = find_classes(targ_dir)

    def load_image(self, index: int) -> Image.Image:
        return Image.open(self.paths[index]).convert("RGB")

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, int]:
        img = self.load_image(index)
        class_idx = self.class_to_idx[self.paths[index].parent.name]
        if self.transform:
            return self.transform(img), class_idx
        return img, class_idx


class TinyVGG(nn.Module):
    def __init__(self, input_shape: int, hidden_units: int, output_shape: int) -> None:
        super().__init__()
        self.conv_block_1 = nn.Sequential(
            nn.Conv2d(input_shape, hidden_units, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(hidden_units * 16, output_shape))

    def forward(self, x: torch.Tensor):
        return self.classifier(self.conv_block_1(x))


rng = np.random.default_rng(7)
colors = {"pizza": (200, 60, 40), "steak": (110, 60, 30), "sushi": (230, 230, 220)}
with tempfile.TemporaryDirectory() as tmp:
    image_path = pathlib.Path(tmp) / "pizza_steak_sushi"
    for split, count in (("train", 8), ("test", 3)):
        for name, color in colors.items():
            (image_path / split / name).mkdir(parents=True, exist_ok=True)
            for k in range(count):
                pixels = np.clip(rng.normal(color, 30, size=(12, 12, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(image_path / split / name / f"{k}.png")
    dir_summary = walk_through_dir(image_path)
    train_data_custom = ImageFolderCustom(image_path / "train", transform=data_transform)
    test_data_custom = ImageFolderCustom(
        image_path / "test", transform=lambda img: data_transform(img, flip=False)
    )
    class_names, class_to_idx = train_data_custom.classes, train_data_custom.class_to_idx
    first_image, first_label = train_data_custom[0]
    raw_size = train_data_custom.load_image(0).size
    set_seeds()
    train_dataloader = DataLoader(train_data_custom, batch_size=6, num_workers=0, shuffle=True)
    test_dataloader = DataLoader(test_data_custom, batch_size=6, num_workers=0, shuffle=False)

    set_seeds()
    model_0 = TinyVGG(input_shape=3, hidden_units=4, output_shape=len(class_names))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(params=model_0.parameters(), lr=0.02)
    results = {"train_loss": [], "test_acc": []}
    for epoch in range(6):
        model_0.train()
        train_loss = 0
        for X, y in train_dataloader:
            loss = loss_fn(model_0(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_loss += loss.item()
        model_0.eval()
        with torch.inference_mode():
            hits = sum((model_0(X).argmax(dim=1) == y).sum().item() for X, y in test_dataloader)
        results["train_loss"].append(train_loss / len(train_dataloader))
        results["test_acc"].append(hits / len(test_data_custom))
        print(
            f"Epoch: {epoch + 1} | train_loss: {results['train_loss'][-1]:.4f} | "
            f"test_acc: {results['test_acc'][-1]:.4f}"
        )

    target_image = data_transform(Image.open(image_path / "test" / "sushi" / "0.png"), flip=False)
    with torch.inference_mode():
        target_image_pred = model_0(target_image.unsqueeze(dim=0))
    target_image_pred_probs = torch.softmax(target_image_pred, dim=1)
    target_image_pred_label = torch.argmax(target_image_pred_probs, dim=1)
    title = (
        f"Pred: {class_names[target_image_pred_label.cpu()]} | "
        f"Prob: {target_image_pred_probs.max().cpu():.3f}"
    )
print(title)
image_info = (tuple(first_image.shape), str(first_image.dtype), first_label, raw_size)
