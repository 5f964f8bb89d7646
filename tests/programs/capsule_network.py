"""A capsule network (Sabour et al. 2017) as the popular PyTorch ports write it, scaled down:
a Conv2d stem, PrimaryCaps (a convolution reshaped into 8-D capsules), the squash
nonlinearity, DigitCaps with a weight tensor W (1, routes, classes, out, in) multiplied with
torch.matmul on expanded/stacked inputs, dynamic routing by agreement (softmax over the
coupling logits b_ij, three iterations, b_ij increased by the agreement), the
margin loss on capsule lengths, and a reconstruction decoder masked by the predicted class."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def squash(input_tensor, dim=-1, eps=1e-8):
    squared_norm = (input_tensor**2).sum(dim, keepdim=True)
    scale = squared_norm / (1.0 + squared_norm)
    return scale * input_tensor / torch.sqrt(squared_norm + eps)


class ConvLayer(nn.Module):
    def __init__(self, in_channels=1, out_channels=32, kernel_size=5):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=1)

    def forward(self, x):
        return F.relu(self.conv(x))


class PrimaryCaps(nn.Module):
    def __init__(self, num_capsules=8, in_channels=32, out_channels=8, kernel_size=3):
        super().__init__()
        self.capsules = nn.ModuleList([
            nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=2, padding=0)
            for _ in range(num_capsules)
        ])  # fmt: skip

    def forward(self, x):
        u = [capsule(x) for capsule in self.capsules]
        u = torch.stack(u, dim=1)  # (batch, num_capsules, out_channels, H, W)
        u = u.view(x.size(0), u.size(1), -1).transpose(1, 2)  # (batch, routes, 8)
        return squash(u)


class DigitCaps(nn.Module):
    def __init__(
        self, num_routes, num_capsules=3, in_channels=8, out_channels=12, routing_iterations=3
    ):
        super().__init__()
        self.in_channels = in_channels
        self.num_routes = num_routes
        self.num_capsules = num_capsules
        self.routing_iterations = routing_iterations
        self.W = nn.Parameter(
            0.1 * torch.randn(1, num_routes, num_capsules, out_channels, in_channels)
        )

    def forward(self, x):
        batch_size = x.size(0)
        x = torch.stack([x] * self.num_capsules, dim=2).unsqueeze(4)  # (b, routes, caps, in, 1)
        W = torch.cat([self.W] * batch_size, dim=0)
        u_hat = torch.matmul(W, x)  # (b, routes, caps, out, 1)
        b_ij = torch.zeros(1, self.num_routes, self.num_capsules, 1, device=x.device)
        for iteration in range(self.routing_iterations):
            c_ij = F.softmax(b_ij, dim=2)  # coupling coefficients over the parent capsules
            c_ij = torch.cat([c_ij] * batch_size, dim=0).unsqueeze(4)
            s_j = (c_ij * u_hat).sum(dim=1, keepdim=True)
            v_j = squash(s_j, dim=3)
            if iteration < self.routing_iterations - 1:
                a_ij = torch.matmul(
                    u_hat.transpose(3, 4), torch.cat([v_j] * self.num_routes, dim=1)
                )
                b_ij = b_ij + a_ij.squeeze(4).mean(dim=0, keepdim=True)
        return v_j.squeeze(1)  # (b, caps, out, 1)


class Decoder(nn.Module):
    def __init__(self, num_classes=3, caps_dim=12, image_size=14):
        super().__init__()
        self.num_classes, self.image_size = num_classes, image_size
        self.reconstruction_layers = nn.Sequential(
            nn.Linear(caps_dim * num_classes, 64), nn.ReLU(inplace=True),
            nn.Linear(64, image_size * image_size), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, x, data):
        classes = torch.sqrt((x**2).sum(2))
        classes = F.softmax(classes, dim=1)
        _, max_length_indices = classes.max(dim=1)
        masked = torch.eye(self.num_classes, device=x.device)
        masked = masked.index_select(dim=0, index=max_length_indices.squeeze(1))
        t = (x * masked[:, :, None, None]).view(x.size(0), -1)
        reconstructions = self.reconstruction_layers(t)
        reconstructions = reconstructions.view(-1, 1, self.image_size, self.image_size)
        return reconstructions, masked


class CapsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_layer = ConvLayer()
        self.primary_capsules = PrimaryCaps()
        self.digit_capsules = DigitCaps(num_routes=8 * 4 * 4)
        self.decoder = Decoder()
        self.mse_loss = nn.MSELoss()

    def forward(self, data):
        output = self.digit_capsules(self.primary_capsules(self.conv_layer(data)))
        reconstructions, masked = self.decoder(output, data)
        return output, reconstructions, masked

    def loss(self, data, x, target, reconstructions):
        return self.margin_loss(x, target) + self.reconstruction_loss(data, reconstructions)

    def margin_loss(self, x, labels, size_average=True):
        batch_size = x.size(0)
        v_c = torch.sqrt((x**2).sum(dim=2, keepdim=True))
        left = F.relu(0.9 - v_c).view(batch_size, -1)
        right = F.relu(v_c - 0.1).view(batch_size, -1)
        loss = labels * left**2 + 0.5 * (1.0 - labels) * right**2
        loss = loss.sum(dim=1).mean()
        return loss

    def reconstruction_loss(self, data, reconstructions):
        loss = self.mse_loss(
            reconstructions.view(reconstructions.size(0), -1),
            data.view(reconstructions.size(0), -1),
        )
        return loss * 0.0005


def make_data(n):
    """14x14 images of a horizontal bar, a vertical bar or a diagonal, slightly shifted."""
    y = torch.randint(0, 3, (n,))
    img = torch.zeros(n, 1, 14, 14)
    shift = torch.randint(-2, 3, (n,))
    for i in range(n):
        c = 7 + int(shift[i])
        if y[i] == 0:
            img[i, 0, c, 2:12] = 1
        elif y[i] == 1:
            img[i, 0, 2:12, c] = 1
        else:
            idx = torch.arange(2, 12)
            img[i, 0, idx, (idx + int(shift[i])).clamp(0, 13)] = 1
    return img + 0.05 * torch.rand(n, 1, 14, 14), y


x_train, y_train = make_data(96)
capsule_net = CapsNet()
optimizer = torch.optim.Adam(capsule_net.parameters(), lr=2e-3)
losses = []
for epoch in range(4):
    capsule_net.train()
    for i in range(0, 96, 24):
        data, target = (
            x_train[i : i + 24],
            torch.eye(3).index_select(dim=0, index=y_train[i : i + 24]),
        )
        optimizer.zero_grad()
        output, reconstructions, masked = capsule_net(data)
        loss = capsule_net.loss(data, output, target, reconstructions)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"epoch {epoch}: loss {sum(losses[-4:]) / 4:.4f}")

x_test, y_test = make_data(48)
capsule_net.eval()
with torch.no_grad():
    output, reconstructions, masked = capsule_net(x_test)
    lengths = output.squeeze(-1).norm(dim=-1)
    accuracy = (lengths.argmax(1) == y_test).float().mean().item()
    masked_agrees = bool((masked.argmax(1) == lengths.argmax(1)).all())
    squashed = squash(torch.randn(100, 8) * 10).norm(dim=-1)
print(
    f"test accuracy {accuracy:.3f}, capsule lengths in [{lengths.min():.3f}, {lengths.max():.3f}]"
)
