"""The "Writing Custom Datasets, DataLoaders and Transforms" tutorial, as written for PyTorch,
on synthetic faces written to a temporary folder (PNG images with PIL, a landmarks CSV with the
``csv`` module in place of pandas): a ``FaceLandmarksDataset`` whose ``__getitem__`` accepts a
tensor index (``torch.is_tensor(idx)``), callable transform classes ``Rescale``,
``RandomCrop`` (``np.random.randint``) and ``ToTensor`` (``transpose((2, 0, 1))`` and
``torch.from_numpy``) chained by a ``Compose``, a ``DataLoader`` collating dict samples, and a
small CNN trained to regress the landmarks from the batches."""

import csv
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)
np.random.seed(0)
tmp = tempfile.TemporaryDirectory()
root_dir = tmp.name
rng = np.random.RandomState(1)
with open(os.path.join(root_dir, "face_landmarks.csv"), "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["image_name"] + [f"part_{i}_{xy}" for i in range(3) for xy in "xy"])
    for n in range(10):
        h, w = 24 + 4 * (n % 3), 32 - 4 * (n % 2)
        image = rng.randint(0, 60, (h, w, 3)).astype(np.uint8)
        points = np.stack([rng.randint(4, w - 4, 3), rng.randint(4, h - 4, 3)], 1)
        for x, y in points:
            image[y - 2 : y + 2, x - 2 : x + 2] = 255
        Image.fromarray(image).save(os.path.join(root_dir, f"face_{n}.png"))
        writer.writerow([f"face_{n}.png"] + points.reshape(-1).tolist())


class FaceLandmarksDataset(Dataset):
    """Face Landmarks dataset."""

    def __init__(self, csv_file, root_dir, transform=None):
        with open(csv_file) as f:
            self.landmarks_frame = list(csv.reader(f))[1:]
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.landmarks_frame)

    def __getitem__(self, idx):
        if torch.is_tensor(idx):
            idx = idx.tolist()
        img_name = os.path.join(self.root_dir, self.landmarks_frame[idx][0])
        image = np.asarray(Image.open(img_name))
        landmarks = np.array([self.landmarks_frame[idx][1:]], dtype=float).reshape(-1, 2)
        sample = {"image": image, "landmarks": landmarks}
        if self.transform:
            sample = self.transform(sample)
        return sample


class Rescale(object):
    """Rescale the image in a sample to a given size (the smaller edge if an int)."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        self.output_size = output_size

    def __call__(self, sample):
        image, landmarks = sample["image"], sample["landmarks"]
        h, w = image.shape[:2]
        if isinstance(self.output_size, int):
            if h > w:
                new_h, new_w = self.output_size * h / w, self.output_size
            else:
                new_h, new_w = self.output_size, self.output_size * w / h
        else:
            new_h, new_w = self.output_size
        new_h, new_w = int(new_h), int(new_w)
        img = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR)) / 255.0
        landmarks = landmarks * [new_w / w, new_h / h]
        return {"image": img, "landmarks": landmarks}


class RandomCrop(object):
    """Crop randomly the image in a sample."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        if isinstance(output_size, int):
            self.output_size = (output_size, output_size)
        else:
            assert len(output_size) == 2
            self.output_size = output_size

    def __call__(self, sample):
        image, landmarks = sample["image"], sample["landmarks"]
        h, w = image.shape[:2]
        new_h, new_w = self.output_size
        top = np.random.randint(0, h - new_h + 1)
        left = np.random.randint(0, w - new_w + 1)
        image = image[top : top + new_h, left : left + new_w]
        landmarks = landmarks - [left, top]
        return {"image": image, "landmarks": landmarks}


class ToTensor(object):
    """Convert ndarrays in sample to Tensors."""

    def __call__(self, sample):
        image, landmarks = sample["image"], sample["landmarks"]
        image = image.transpose((2, 0, 1))  # numpy image: H x W x C, torch image: C x H x W
        return {"image": torch.from_numpy(image), "landmarks": torch.from_numpy(landmarks)}


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, sample):
        for t in self.transforms:
            sample = t(sample)
        return sample


face_dataset = FaceLandmarksDataset(os.path.join(root_dir, "face_landmarks.csv"), root_dir)
raw_shapes = [(face_dataset[i]["image"].shape, face_dataset[i]["landmarks"].shape) for i in (0, 1)]
tensor_index = face_dataset[torch.tensor(3)]["landmarks"].tolist()
composed = Compose([Rescale(20), RandomCrop(16)])
crop = composed(face_dataset[2])
crop_summary = (crop["image"].shape, crop["landmarks"].round(4).tolist())

transformed_dataset = FaceLandmarksDataset(
    csv_file=os.path.join(root_dir, "face_landmarks.csv"),
    root_dir=root_dir,
    transform=Compose([Rescale(20), RandomCrop(16), ToTensor()]),
)
sample = transformed_dataset[0]
sample_info = (
    tuple(sample["image"].size()),
    str(sample["image"].dtype),
    str(sample["landmarks"].dtype),
)
dataloader = DataLoader(transformed_dataset, batch_size=4, shuffle=True, num_workers=0)
batch_sizes = []
for i_batch, sample_batched in enumerate(dataloader):
    print(i_batch, sample_batched["image"].size(), sample_batched["landmarks"].size())
    batch_sizes.append(
        (tuple(sample_batched["image"].size()), tuple(sample_batched["landmarks"].size()))
    )

model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 8 * 8, 6)
)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for epoch in range(4):
    for sample_batched in dataloader:
        images = sample_batched["image"].float()
        targets = sample_batched["landmarks"].float().view(-1, 6) / 16
        loss = nn.functional.mse_loss(model(images), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
print(f"first loss {losses[0]:.4f}, last loss {losses[-1]:.4f}")
tmp.cleanup()
