"""Semantic segmentation with a small U-Net (milesial/Pytorch-UNet style), as written for
PyTorch, on synthetic 16x16 images of discs and squares: DoubleConv/Down/Up blocks with
F.pad to match skip sizes, bilinear upsampling, cross-entropy over (N, C, H, W) logits with class
weights plus a multiclass Dice loss from F.one_hot(...).permute, RMSprop with
ReduceLROnPlateau, autocast and GradScaler (disabled on CPU), and a binary head trained with
BCEWithLogitsLoss(pos_weight=...)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, random_split

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
n_classes, size = 3, 16  # background, disc, square


class ShapesDataset(Dataset):
    """Images with one disc (class 1) and one square (class 2), and their label masks."""

    def __init__(self, n):
        self.images, self.masks = [], []
        yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        for _ in range(n):
            mask = torch.zeros(size, size, dtype=torch.long)
            cy, cx, r = torch.randint(4, 12, (1,)).item(), torch.randint(4, 12, (1,)).item(), 3
            mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
            sy, sx = torch.randint(0, size - 5, (2,)).tolist()
            mask[sy : sy + 5, sx : sx + 5] = 2
            image = torch.stack([(mask == 1).float(), (mask == 2).float() * 0.7, mask.float() / 2])
            image = image + 0.3 * torch.randn_like(image)
            self.images.append(image)
            self.masks.append(mask)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, idx):
        return {"image": self.images[idx], "mask": self.masks[idx]}


class DoubleConv(nn.Module):
    """(convolution => [BN] => ReLU) * 2"""

    def __init__(self, in_channels, out_channels, mid_channels=None):
        super().__init__()
        if not mid_channels:
            mid_channels = out_channels
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    """Downscaling with maxpool then double conv"""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Upscaling then double conv"""

    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        # input is CHW
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        x = torch.cat([x2, x1], dim=1)
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, n_channels, n_classes, bilinear=False):
        super(UNet, self).__init__()
        self.n_channels = n_channels
        self.n_classes = n_classes
        self.bilinear = bilinear
        factor = 2 if bilinear else 1
        self.inc = DoubleConv(n_channels, 8)
        self.down1 = Down(8, 16)
        self.down2 = Down(16, 32 // factor)
        self.up1 = Up(32, 16 // factor, bilinear)
        self.up2 = Up(16, 8, bilinear)
        self.outc = nn.Conv2d(8, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        x = self.up2(x, x1)
        return self.outc(x)


def dice_coeff(input: Tensor, target: Tensor, reduce_batch_first: bool = False, epsilon=1e-6):
    # Average of Dice coefficient for all batches, or for a single mask
    assert input.size() == target.size()
    assert input.dim() == 3 or not reduce_batch_first
    sum_dim = (-1, -2) if input.dim() == 2 or not reduce_batch_first else (-1, -2, -3)
    inter = 2 * (input * target).sum(dim=sum_dim)
    sets_sum = input.sum(dim=sum_dim) + target.sum(dim=sum_dim)
    sets_sum = torch.where(sets_sum == 0, inter, sets_sum)
    dice = (inter + epsilon) / (sets_sum + epsilon)
    return dice.mean()


def multiclass_dice_coeff(input: Tensor, target: Tensor, reduce_batch_first=False, epsilon=1e-6):
    # Average of Dice coefficient for all classes
    return dice_coeff(input.flatten(0, 1), target.flatten(0, 1), reduce_batch_first, epsilon)


def dice_loss(input: Tensor, target: Tensor, multiclass: bool = False):
    # Dice loss (objective to minimize) between 0 and 1
    fn = multiclass_dice_coeff if multiclass else dice_coeff
    return 1 - fn(input, target, reduce_batch_first=True)


@torch.inference_mode()
def evaluate(net, dataloader, device, amp):
    net.eval()
    num_val_batches = len(dataloader)
    dice_score = 0
    with torch.autocast(device.type if device.type != "mps" else "cpu", enabled=amp):
        for batch in dataloader:
            image, mask_true = batch["image"], batch["mask"]
            image = image.to(device=device, dtype=torch.float32, memory_format=torch.channels_last)
            mask_true = mask_true.to(device=device, dtype=torch.long)
            mask_pred = net(image)
            assert mask_true.min() >= 0 and mask_true.max() < net.n_classes
            mask_true = F.one_hot(mask_true, net.n_classes).permute(0, 3, 1, 2).float()
            mask_pred = (
                F.one_hot(mask_pred.argmax(dim=1), net.n_classes).permute(0, 3, 1, 2).float()
            )
            # compute the Dice score, ignoring background
            dice_score += multiclass_dice_coeff(
                mask_pred[:, 1:], mask_true[:, 1:], reduce_batch_first=False
            )
    net.train()
    return dice_score / max(num_val_batches, 1)


dataset = ShapesDataset(160)
n_val = 32
n_train = len(dataset) - n_val
train_set, val_set = random_split(
    dataset, [n_train, n_val], generator=torch.Generator().manual_seed(0)
)
loader_args = dict(batch_size=16, num_workers=0, pin_memory=True)
train_loader = DataLoader(train_set, shuffle=True, **loader_args)
val_loader = DataLoader(val_set, shuffle=False, drop_last=True, **loader_args)

results = {}
for bilinear in (False, True):
    torch.manual_seed(1)
    model = UNet(n_channels=3, n_classes=n_classes, bilinear=bilinear)
    model = model.to(memory_format=torch.channels_last).to(device)
    amp = False
    optimizer = torch.optim.RMSprop(
        model.parameters(), lr=3e-3, weight_decay=1e-8, momentum=0.9, foreach=True
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "max", patience=2)
    grad_scaler = torch.cuda.amp.GradScaler(enabled=amp)
    # background is most of each image: weigh the shapes up
    criterion = nn.CrossEntropyLoss(weight=torch.tensor([0.3, 1.0, 1.0], device=device))
    losses, scores = [], []
    for epoch in range(1, 5):
        model.train()
        epoch_loss = 0
        for batch in train_loader:
            images, true_masks = batch["image"], batch["mask"]
            images = images.to(
                device=device, dtype=torch.float32, memory_format=torch.channels_last
            )
            true_masks = true_masks.to(device=device, dtype=torch.long)
            with torch.autocast(device.type if device.type != "mps" else "cpu", enabled=amp):
                masks_pred = model(images)
                loss = criterion(masks_pred, true_masks)
                loss += dice_loss(
                    F.softmax(masks_pred, dim=1).float(),
                    F.one_hot(true_masks, model.n_classes).permute(0, 3, 1, 2).float(),
                    multiclass=True,
                )
            optimizer.zero_grad(set_to_none=True)
            grad_scaler.scale(loss).backward()
            grad_scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            grad_scaler.step(optimizer)
            grad_scaler.update()
            epoch_loss += loss.item()
        val_score = evaluate(model, val_loader, device, amp)
        scheduler.step(val_score)
        losses.append(epoch_loss / len(train_loader))
        scores.append(float(val_score))
        print(f"bilinear={bilinear} epoch {epoch}: loss {losses[-1]:.4f} Dice {scores[-1]:.4f}")
    results[bilinear] = (losses, scores, model)

# A binary head: is this pixel part of any shape? BCEWithLogitsLoss with pos_weight
torch.manual_seed(2)
binary = UNet(n_channels=3, n_classes=1, bilinear=True).to(device)
opt = torch.optim.Adam(binary.parameters(), lr=3e-3)
bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0], device=device))
bce_losses = []
for epoch in range(4):
    for batch in train_loader:
        target = (batch["mask"] > 0).float().unsqueeze(1).to(device)
        logits = binary(batch["image"].to(device))
        loss = bce(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bce_losses.append(loss.item())
binary.eval()
with torch.no_grad():
    batch = next(iter(val_loader))
    pred = torch.sigmoid(binary(batch["image"].to(device))) > 0.5
    truth = (batch["mask"] > 0).unsqueeze(1).to(device)
    iou = (pred & truth).sum().item() / max((pred | truth).sum().item(), 1)
print(f"binary IoU {iou:.3f}")
