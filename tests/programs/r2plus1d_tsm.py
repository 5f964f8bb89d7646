"""Two cheap video backbones on tiny clips: R(2+1)D (Tran et al. 2018) as torchvision's
video_resnet writes its ``Conv2Plus1D`` (a (1, k, k) spatial Conv3d, BatchNorm3d and ReLU, then
a (k, 1, 1) temporal Conv3d, with the middle width chosen so the parameter count matches a full
3-D kernel), and the Temporal Shift Module (Lin et al. 2019) as mit-han-lab/temporal-shift-module
writes ``TemporalShift.shift``: a 2-D CNN over (N*T) frames whose channels are shifted one step
forward and backward in time by ``view`` + slice assignment into ``torch.zeros_like``, then
averaged over time (the "consensus"). The synthetic clips show a bar that sweeps left, right, up
or down, so a single frame cannot tell the class. Trained with SGD (momentum, nesterov,
weight decay) and a cosine schedule."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_CLIPS, T, S = 32, 6, 8


def make_clips(n):
    labels = torch.randint(0, 4, (n,))
    clips = 0.1 * torch.randn(n, 1, T, S, S)
    start = torch.randint(0, 2, (n,))
    for i in range(n):
        for t in range(T):
            pos = int(start[i]) + t
            if labels[i] == 0:
                clips[i, 0, t, :, pos] += 1.0
            elif labels[i] == 1:
                clips[i, 0, t, :, S - 1 - pos] += 1.0
            elif labels[i] == 2:
                clips[i, 0, t, pos, :] += 1.0
            else:
                clips[i, 0, t, S - 1 - pos, :] += 1.0
    return clips, labels


class Conv2Plus1D(nn.Sequential):
    def __init__(self, in_planes, out_planes, midplanes, stride=1, padding=1):
        super().__init__(
            nn.Conv3d(in_planes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride),
                      padding=(0, padding, padding), bias=False),
            nn.BatchNorm3d(midplanes),
            nn.ReLU(inplace=True),
            nn.Conv3d(midplanes, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1),
                      padding=(padding, 0, 0), bias=False),
        )  # fmt: skip


class R2Plus1D(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        mid = (1 * 8 * 3 * 3 * 3) // (1 * 3 * 3 + 3 * 8)  # torchvision's R(2+1)D stem formula
        self.stem = nn.Sequential(Conv2Plus1D(1, 8, mid), nn.BatchNorm3d(8), nn.ReLU(inplace=True))
        mid2 = (8 * 16 * 3 * 3 * 3) // (8 * 3 * 3 + 3 * 16)
        self.layer = nn.Sequential(
            Conv2Plus1D(8, 16, mid2, stride=2), nn.BatchNorm3d(16), nn.ReLU(inplace=True)
        )
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.layer(self.stem(x))
        return self.fc(self.avgpool(x).flatten(1))


class TemporalShift(nn.Module):
    def __init__(self, net, n_segment, n_div=4):
        super().__init__()
        self.net, self.n_segment, self.fold_div = net, n_segment, n_div

    def forward(self, x):
        return self.net(self.shift(x, self.n_segment, fold_div=self.fold_div))

    @staticmethod
    def shift(x, n_segment, fold_div=4):
        nt, c, h, w = x.size()
        n_batch = nt // n_segment
        x = x.view(n_batch, n_segment, c, h, w)
        fold = c // fold_div
        out = torch.zeros_like(x)
        out[:, :-1, :fold] = x[:, 1:, :fold]  # shift left
        out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]  # shift right
        out[:, :, 2 * fold :] = x[:, :, 2 * fold :]  # not shift
        return out.view(nt, c, h, w)


class TSN(nn.Module):
    def __init__(self, n_segment, num_classes=4):
        super().__init__()
        self.n_segment = n_segment
        self.conv1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.conv2 = TemporalShift(nn.Conv2d(8, 8, 3, padding=1), n_segment)
        self.conv3 = TemporalShift(nn.Conv2d(8, 16, 3, padding=1, stride=2), n_segment)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):  # x: (N, C, T, H, W) -> frames (N*T, C, H, W)
        n, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * t, c, h, w)
        y = F.relu(self.conv2(self.conv1(frames)))
        y = F.relu(self.conv3(y))
        y = self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))
        return y.view(n, t, -1).mean(dim=1)  # average consensus over segments


clips, labels = make_clips(N_CLIPS)
test_clips, test_labels = make_clips(16)
shift_probe = TemporalShift.shift(torch.arange(2 * 3 * 8, dtype=torch.float).view(6, 8, 1, 1), 3)
shift_probe = shift_probe.flatten().tolist()

results = {}
for name, model in [("r2plus1d", R2Plus1D()), ("tsm", TSN(T))]:
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    losses = []
    for epoch in range(10):
        model.train()
        for idx in torch.randperm(N_CLIPS).split(16):
            loss = F.cross_entropy(model(clips[idx]), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(test_clips).argmax(1) == test_labels).float().mean().item()
    n_params = sum(p.numel() for p in model.parameters())
    results[name] = (losses, accuracy, n_params)

r2_losses, r2_accuracy, r2_params = results["r2plus1d"]
tsm_losses, tsm_accuracy, tsm_params = results["tsm"]
