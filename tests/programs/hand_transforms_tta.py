"""Image classification with torchvision-style transforms written by hand, as people do when
they cannot install torchvision or want them on batches: RandomResizedCrop (scale and
log-uniform aspect ratio drawn with ``torch.empty(1).uniform_``, ten tries then a central
fallback, resize by ``F.interpolate(mode="bilinear", antialias=True)``), ColorJitter
(brightness, contrast around the grayscale mean, saturation against
``rgb_to_grayscale``'s 0.299/0.587/0.114 weights, in a ``torch.randperm`` order, clamped),
RandomHorizontalFlip by ``torch.flip``, Normalize, a Compose class, a Dataset that applies
them in ``__getitem__`` behind a DataLoader with a seeded Generator, label smoothing, and
test-time augmentation averaging softmaxes over flips and shifted crops; on 3x16x16 images
of coloured bars and squares."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img


class RandomResizedCrop:
    def __init__(self, size, scale=(0.5, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0)):
        self.size, self.scale, self.ratio = size, scale, ratio

    def get_params(self, img):
        _, height, width = img.shape
        area = height * width
        log_ratio = torch.log(torch.tensor(self.ratio))
        for _ in range(10):
            target_area = area * torch.empty(1).uniform_(self.scale[0], self.scale[1]).item()
            aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = torch.randint(0, height - h + 1, size=(1,)).item()
                j = torch.randint(0, width - w + 1, size=(1,)).item()
                return i, j, h, w
        return 0, 0, height, width  # fallback: the whole image

    def __call__(self, img):
        i, j, h, w = self.get_params(img)
        crop = img[:, i : i + h, j : j + w]
        return F.interpolate(crop[None], size=self.size, mode="bilinear", align_corners=False,
                             antialias=True)[0]  # fmt: skip


def rgb_to_grayscale(img):
    r, g, b = img.unbind(dim=-3)
    return (0.299 * r + 0.587 * g + 0.114 * b).unsqueeze(dim=-3)


class ColorJitter:
    def __init__(self, brightness=0.4, contrast=0.4, saturation=0.4):
        self.ranges = [(1 - brightness, 1 + brightness), (1 - contrast, 1 + contrast),
                       (1 - saturation, 1 + saturation)]  # fmt: skip

    def __call__(self, img):
        fn_idx = torch.randperm(3)
        factors = [float(torch.empty(1).uniform_(lo, hi)) for lo, hi in self.ranges]
        for fn_id in fn_idx.tolist():
            f = factors[fn_id]
            if fn_id == 0:
                other = torch.zeros_like(img)
            elif fn_id == 1:
                other = torch.mean(rgb_to_grayscale(img), dim=(-3, -2, -1), keepdim=True)
            else:
                other = rgb_to_grayscale(img)
            img = (f * img + (1.0 - f) * other).clamp(0, 1)
        return img


class RandomHorizontalFlip:
    def __call__(self, img):
        return torch.flip(img, dims=[-1]) if torch.rand(1) < 0.5 else img


class Normalize:
    def __init__(self, mean, std):
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __call__(self, img):
        return (img - self.mean) / self.std


def make_images(n):
    """Class 0: horizontal bar, 1: vertical bar, 2: square; each in a random colour."""
    labels = torch.randint(0, 3, (n,))
    imgs = torch.rand(n, 3, 1, 1) * 0.2 + torch.rand(n, 3, 16, 16) * 0.1  # a noisy background
    colours = torch.rand(n, 3) * 0.7 + 0.3
    for k in range(n):
        r, c = torch.randint(3, 9, (2,)).tolist()
        shape = [(slice(r, r + 3), slice(2, 14)), (slice(2, 14), slice(c, c + 3)),
                 (slice(r, r + 6), slice(c, c + 6))][int(labels[k])]  # fmt: skip
        imgs[k, :, shape[0], shape[1]] = colours[k].view(3, 1, 1)
    return imgs, labels


class ShapesDataset(Dataset):
    def __init__(self, n, transform=None):
        self.images, self.labels = make_images(n)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        img = self.images[idx]
        return (self.transform(img) if self.transform else img), self.labels[idx]


normalize = Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25])
train_tf = Compose([RandomResizedCrop(16), ColorJitter(), RandomHorizontalFlip(), normalize])
train_set, test_set = ShapesDataset(128, train_tf), ShapesDataset(96, normalize)
loader = DataLoader(
    train_set, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(3)
)
model = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    nn.Flatten(), nn.Linear(32, 3),
)  # fmt: skip
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
losses = []
for epoch in range(5):
    model.train()
    for images, labels in loader:
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


def tta_predict(images):
    views = [images, torch.flip(images, dims=[-1])]
    views += [torch.roll(images, shifts=s, dims=(-2, -1)) for s in [(1, 0), (0, 1), (-1, -1)]]
    return torch.stack([model(v).softmax(-1) for v in views]).mean(0)


model.eval()
with torch.no_grad():
    images, labels = test_set.images, test_set.labels
    images = normalize(images)
    plain_acc = (model(images).argmax(1) == labels).float().mean().item()
    tta_probs = tta_predict(images)
    tta_acc = (tta_probs.argmax(1) == labels).float().mean().item()
    tta_prob_sums = tta_probs.sum(1).sub(1).abs().max().item()
torch.manual_seed(5)
probe = torch.rand(3, 16, 16)
crop_params = [RandomResizedCrop(16).get_params(probe) for _ in range(4)]
jittered = ColorJitter()(probe)
probe_stats = [jittered.mean().item(), jittered.std().item(), rgb_to_grayscale(probe).mean().item()]
resized = RandomResizedCrop((8, 12))(probe)
resized_sample = [tuple(resized.shape), resized[0, 0, :4].tolist()]
