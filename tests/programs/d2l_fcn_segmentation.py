"""Dive into Deep Learning, sections 14.9-14.11 (semantic segmentation, transposed convolution,
fully convolutional networks), as the book writes them in PyTorch, on small synthetic VOC-style
images: ``voc_colormap2label`` (a ``256 ** 3`` long lookup table) indexed by the NumPy ``int32``
array that ``voc_label_indices`` builds from ``colormap.permute(1, 2, 0).numpy()``; the
``VOCSegDataset`` with ``normalize_image`` (``img.float() / 255`` then per-channel
normalisation), ``filter`` by size and ``voc_rand_crop`` drawing its window as
``RandomCrop.get_params`` does (``torch.randint(..., size=(1,)).item()``); transposed convolution
by hand (``trans_conv``) against ``nn.ConvTranspose2d``; ``bilinear_kernel`` assigning one
filter through two ``range`` indices (``weight[range(in_channels), range(out_channels), :, :]
= filt``) and the upsampling it gives next to ``F.interpolate(mode='bilinear')``; the FCN built
by ``add_module`` (a 1x1 ``final_conv`` and a bilinear-initialised stride-8
``transpose_conv``), trained with the per-pixel ``F.cross_entropy(..., reduction='none')
.mean(1).mean(1)`` loss, then ``predict`` by ``argmax(dim=1)`` and ``label2image`` by indexing
the colormap tensor with the predicted classes."""

import torch
from torch import nn
from torch.nn import functional as F

VOC_COLORMAP = [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128],
                [0, 128, 128], [128, 128, 128], [64, 0, 0], [192, 0, 0], [64, 128, 0]]  # fmt: skip
VOC_CLASSES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
               "cat", "chair", "cow"]  # fmt: skip


def voc_colormap2label():
    """Build the mapping from RGB to class indices for VOC labels."""
    colormap2label = torch.zeros(256**3, dtype=torch.long)
    for i, colormap in enumerate(VOC_COLORMAP):
        colormap2label[(colormap[0] * 256 + colormap[1]) * 256 + colormap[2]] = i
    return colormap2label


def voc_label_indices(colormap, colormap2label):
    """Map any RGB values in VOC labels to their class indices."""
    colormap = colormap.permute(1, 2, 0).numpy().astype("int32")
    idx = (colormap[:, :, 0] * 256 + colormap[:, :, 1]) * 256 + colormap[:, :, 2]
    return colormap2label[idx]


def voc_rand_crop(feature, label, height, width):
    """Randomly crop both feature and label images (RandomCrop.get_params, then crop)."""
    h, w = feature.shape[-2:]
    i = torch.randint(0, h - height + 1, size=(1,)).item()
    j = torch.randint(0, w - width + 1, size=(1,)).item()
    return feature[..., i : i + height, j : j + width], label[..., i : i + height, j : j + width]


torch.manual_seed(0)
num_classes = 4
features, labels = [], []
for n in range(6):
    size = 20 if n != 5 else 12  # the last image is too small for the crop: filtered out
    cls = torch.randint(0, num_classes, (size, size))
    cls[: size // 2] = n % num_classes
    label = torch.tensor(VOC_COLORMAP, dtype=torch.uint8)[cls].permute(2, 0, 1).contiguous()
    feature = (label.float() * 0.8 + torch.rand(3, size, size) * 50).to(torch.uint8)
    features.append(feature)
    labels.append(label)


class VOCSegDataset(torch.utils.data.Dataset):
    """A customized dataset to load the VOC dataset."""

    def __init__(self, features, labels, crop_size):
        self.mean = torch.tensor([0.485, 0.456, 0.406]).reshape(3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).reshape(3, 1, 1)
        self.crop_size = crop_size
        self.features = [self.normalize_image(feature) for feature in self.filter(features)]
        self.labels = self.filter(labels)
        self.colormap2label = voc_colormap2label()

    def normalize_image(self, img):
        return (img.float() / 255 - self.mean) / self.std

    def filter(self, imgs):
        return [img for img in imgs if (img.shape[1] >= self.crop_size[0] and img.shape[2] >= self.crop_size[1])]  # fmt: skip

    def __getitem__(self, idx):
        feature, label = voc_rand_crop(self.features[idx], self.labels[idx], *self.crop_size)
        return (feature, voc_label_indices(label, self.colormap2label))

    def __len__(self):
        return len(self.features)


voc_train = VOCSegDataset(features, labels, (16, 16))
train_iter = torch.utils.data.DataLoader(voc_train, batch_size=5, shuffle=True, drop_last=True)
X0, Y0 = next(iter(train_iter))
batch_info = (tuple(X0.shape), tuple(Y0.shape), str(Y0.dtype), len(voc_train))
label_counts = torch.bincount(Y0.flatten(), minlength=num_classes).tolist()


def trans_conv(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] + h - 1, X.shape[1] + w - 1))
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            Y[i : i + h, j : j + w] += X[i, j] * K
    return Y


X = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
tconv = nn.ConvTranspose2d(1, 1, kernel_size=2, bias=False)
tconv.weight.data = K.reshape(1, 1, 2, 2)
trans_conv_results = [trans_conv(X, K).tolist(), tconv(X.reshape(1, 1, 2, 2)).squeeze().tolist()]


def bilinear_kernel(in_channels, out_channels, kernel_size):
    factor = (kernel_size + 1) // 2
    if kernel_size % 2 == 1:
        center = factor - 1
    else:
        center = factor - 0.5
    og = (torch.arange(kernel_size).reshape(-1, 1), torch.arange(kernel_size).reshape(1, -1))
    filt = (1 - torch.abs(og[0] - center) / factor) * (1 - torch.abs(og[1] - center) / factor)
    weight = torch.zeros((in_channels, out_channels, kernel_size, kernel_size))
    weight[range(in_channels), range(out_channels), :, :] = filt
    return weight


conv_trans = nn.ConvTranspose2d(3, 3, kernel_size=4, padding=1, stride=2, bias=False)
conv_trans.weight.data.copy_(bilinear_kernel(3, 3, 4))
img = features[0].float() / 255
Y = conv_trans(img.unsqueeze(0))
out_img = Y[0].permute(1, 2, 0).detach()
up_shape = tuple(out_img.shape)
reference = F.interpolate(img.unsqueeze(0), scale_factor=2, mode="bilinear", align_corners=False)
upsample_gap = (Y - reference)[..., 1:-1, 1:-1].abs().max().item()  # equal away from the border
kernel_offdiag = bilinear_kernel(3, 3, 4)[0, 1].abs().sum().item()

backbone = nn.Sequential(
    nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
    nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
    nn.AdaptiveAvgPool2d((1, 1)), nn.Linear(16, 10),
)  # fmt: skip
net = nn.Sequential(*list(backbone.children())[:-2])
net.add_module("final_conv", nn.Conv2d(16, num_classes, kernel_size=1))
net.add_module(
    "transpose_conv",
    nn.ConvTranspose2d(num_classes, num_classes, kernel_size=16, padding=4, stride=8),
)
W = bilinear_kernel(num_classes, num_classes, 16)
net.transpose_conv.weight.data.copy_(W)
out_shape = tuple(net(torch.rand(size=(1, 3, 16, 16))).shape)


def loss(inputs, targets):
    return F.cross_entropy(inputs, targets, reduction="none").mean(1).mean(1)


trainer = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=1e-3)
losses = []
for epoch in range(6):
    for X, Y in train_iter:
        net.train()
        trainer.zero_grad()
        l = loss(net(X), Y)  # noqa: E741 (the book's name)
        l.sum().backward()
        trainer.step()
        losses.append(l.mean().item())


def predict(img):
    X = voc_train.normalize_image(img).unsqueeze(0)
    pred = net(X).argmax(dim=1)
    return pred.reshape(pred.shape[1], pred.shape[2])


def label2image(pred):
    colormap = torch.tensor(VOC_COLORMAP)
    X = pred.long()
    return colormap[X, :]


net.eval()
with torch.no_grad():
    pred = predict(features[1][:, :16, :16])
colored = label2image(pred)
colored_info = (tuple(colored.shape), str(colored.dtype))
pixel_accuracy = (pred == voc_label_indices(labels[1][:, :16, :16], voc_train.colormap2label)).float().mean().item()  # fmt: skip
