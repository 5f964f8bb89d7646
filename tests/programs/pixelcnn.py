"""A PixelCNN (van den Oord et al. 2016) as people write it for PyTorch: MaskedConv2d, a Conv2d
subclass that zeroes the weights it must not see (``self.weight.data *= self.mask`` before
``super().forward``), mask types A and B kept as buffers, a softmax over intensity levels per
pixel (4 here, 256 for real images) trained with cross-entropy over (N, C, H, W) logits, and
autoregressive sampling one pixel at a time with torch.multinomial; on 8x8 images of
quantized vertical gradients."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
levels, size = 4, 8


class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, *args, **kwargs):
        super(MaskedConv2d, self).__init__(*args, **kwargs)
        assert mask_type in {"A", "B"}
        self.register_buffer("mask", self.weight.data.clone())
        _, _, kH, kW = self.weight.size()
        self.mask.fill_(1)
        self.mask[:, :, kH // 2, kW // 2 + (mask_type == "B") :] = 0
        self.mask[:, :, kH // 2 + 1 :] = 0

    def forward(self, x):
        self.weight.data *= self.mask
        return super(MaskedConv2d, self).forward(x)


fm = 32
net = nn.Sequential(
    MaskedConv2d("A", 1, fm, 5, 1, 2, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True),
    MaskedConv2d("B", fm, fm, 3, 1, 1, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True),
    MaskedConv2d("B", fm, fm, 3, 1, 1, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True),
    nn.Conv2d(fm, levels, 1),
).to(device)  # fmt: skip


def make_images(n):
    """Each row is constant; rows step up by one level every two rows from a random start."""
    start = torch.randint(0, 2, (n, 1, 1, 1))
    rows = torch.arange(size).view(1, 1, size, 1) // 3
    return ((start + rows).clamp(max=levels - 1)).expand(n, 1, size, size).contiguous()


train = make_images(256)
optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
losses = []
for epoch in range(5):
    net.train()
    perm = torch.randperm(len(train))
    for i in range(0, len(train), 32):
        target = train[perm[i : i + 32]].to(device)
        inputs = target.float() / (levels - 1)
        logits = net(inputs)  # (N, levels, H, W)
        loss = F.cross_entropy(logits, target.squeeze(1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"epoch {epoch}: nll {sum(losses[-8:]) / 8:.4f} nats/pixel")

# the masks really are causal: the first pixel's logits do not depend on the image
net.eval()
with torch.no_grad():
    a = net(torch.rand(1, 1, size, size, device=device))[0, :, 0, 0]
    b = net(torch.rand(1, 1, size, size, device=device))[0, :, 0, 0]
causal_gap = (a - b).abs().max().item()
first = net[0]
weights_masked = (first.weight.data * (1 - first.mask)).abs().max().item() == 0.0

# a pixel's logits must not change when a later pixel changes
x = torch.rand(1, 1, size, size, device=device, requires_grad=True)
out = net(x)[0, :, 3, 4].sum()
(grad,) = torch.autograd.grad(out, x)
future = grad[0, 0].flatten()[3 * size + 4 :]  # this pixel and the ones after it in raster order
future_max = future.abs().max().item()

# sampling, one pixel at a time
sample = torch.zeros(16, 1, size, size, device=device)
with torch.no_grad():
    for i in range(size):
        for j in range(size):
            out = net(sample / (levels - 1))
            probs = F.softmax(out[:, :, i, j], dim=1)
            sample[:, :, i, j] = torch.multinomial(probs, 1).float()
rows_constant = (sample == sample[:, :, :, :1]).float().mean().item()
print(f"samples: {rows_constant:.2f} of pixels equal their row's first pixel")
