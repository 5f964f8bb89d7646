"""A temporal convolutional network (locuslab/TCN, Bai et al. 2018) as written for PyTorch, on
its "adding problem": causal dilated Conv1d layers under nn.utils.weight_norm with Chomp1d
trimming, residual 1x1 downsampling, gradient clipping; then the same network with
nn.utils.parametrizations.weight_norm, and remove_weight_norm keeping the function."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import weight_norm

torch.manual_seed(1111)


def data_generator(N, seq_length):
    """
    Args:
        seq_length: Length of the adding problem data
        N: # of data in the set
    """
    X_num = torch.rand([N, 1, seq_length])
    X_mask = torch.zeros([N, 1, seq_length])
    Y = torch.zeros([N, 1])
    for i in range(N):
        positions = torch.randperm(seq_length)[:2]
        X_mask[i, 0, positions[0]] = 1
        X_mask[i, 0, positions[1]] = 1
        Y[i, 0] = X_num[i, 0, positions[0]] + X_num[i, 0, positions[1]]
    X = torch.cat((X_num, X_mask), dim=1)
    return X, Y


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super(Chomp1d, self).__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, : -self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(
        self,
        n_inputs,
        n_outputs,
        kernel_size,
        stride,
        dilation,
        padding,
        dropout=0.2,
        norm=weight_norm,
    ):
        super(TemporalBlock, self).__init__()
        self.conv1 = norm(
            nn.Conv1d(
                n_inputs, n_outputs, kernel_size, stride=stride, padding=padding, dilation=dilation
            )
        )
        self.chomp1 = Chomp1d(padding)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(dropout)

        self.conv2 = norm(
            nn.Conv1d(
                n_outputs, n_outputs, kernel_size, stride=stride, padding=padding, dilation=dilation
            )
        )
        self.chomp2 = Chomp1d(padding)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(dropout)

        self.net = nn.Sequential(
            self.conv1, self.chomp1, self.relu1, self.dropout1,
            self.conv2, self.chomp2, self.relu2, self.dropout2,
        )  # fmt: skip
        self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None
        self.relu = nn.ReLU()
        self.init_weights()

    def init_weights(self):
        self.conv1.weight.data.normal_(0, 0.01)
        self.conv2.weight.data.normal_(0, 0.01)
        if self.downsample is not None:
            self.downsample.weight.data.normal_(0, 0.01)

    def forward(self, x):
        out = self.net(x)
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class TemporalConvNet(nn.Module):
    def __init__(self, num_inputs, num_channels, kernel_size=2, dropout=0.2, norm=weight_norm):
        super(TemporalConvNet, self).__init__()
        layers = []
        num_levels = len(num_channels)
        for i in range(num_levels):
            dilation_size = 2**i
            in_channels = num_inputs if i == 0 else num_channels[i - 1]
            out_channels = num_channels[i]
            layers += [
                TemporalBlock(
                    in_channels, out_channels, kernel_size, stride=1, dilation=dilation_size,
                    padding=(kernel_size - 1) * dilation_size, dropout=dropout, norm=norm,
                )
            ]  # fmt: skip
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


class TCN(nn.Module):
    def __init__(
        self, input_size, output_size, num_channels, kernel_size, dropout, norm=weight_norm
    ):
        super(TCN, self).__init__()
        self.tcn = TemporalConvNet(
            input_size, num_channels, kernel_size=kernel_size, dropout=dropout, norm=norm
        )
        self.linear = nn.Linear(num_channels[-1], output_size)
        self.init_weights()

    def init_weights(self):
        self.linear.weight.data.normal_(0, 0.01)

    def forward(self, x):
        y1 = self.tcn(x)
        return self.linear(y1[:, :, -1])


seq_length, batch_size, epochs = 16, 64, 8
X_train, Y_train = data_generator(640, seq_length)
X_test, Y_test = data_generator(128, seq_length)
channel_sizes = [16] * 4  # receptive field 1 + 2 * (1 + 2 + 4 + 8) = 31: every step


def train_and_test(model, lr=1e-2, clip=1.0):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    test_losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        for i in range(0, X_train.size(0), batch_size):
            x, y = X_train[i : i + batch_size], Y_train[i : i + batch_size]
            optimizer.zero_grad()
            output = model(x)
            loss = F.mse_loss(output, y)
            loss.backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            test_loss = F.mse_loss(model(X_test), Y_test)
        test_losses.append(test_loss.item())
        print(f"Test set: Average loss: {test_loss.item():.6f}")
    return test_losses


model = TCN(2, 1, channel_sizes, kernel_size=2, dropout=0.0)
conv = model.tcn.network[0].conv1
print("weight_g", tuple(conv.weight_g.shape), "weight_v", tuple(conv.weight_v.shape))
names = sorted(n for n, _ in conv.named_parameters())
legacy_losses = train_and_test(model)

# the weight is recomputed from g and v: ||w|| per output channel equals |g|
w_norms = conv.weight.detach().flatten(1).norm(dim=1)
g_gap = (w_norms - conv.weight_g.detach().flatten().abs()).abs().max().item()

# remove the reparameterization: one plain weight, the same function
with torch.no_grad():
    before = model(X_test)
for block in model.tcn.network:
    torch.nn.utils.remove_weight_norm(block.conv1)
    torch.nn.utils.remove_weight_norm(block.conv2)
with torch.no_grad():
    after = model(X_test)
removed_gap = (before - after).abs().max().item()
names_after = sorted(n for n, _ in conv.named_parameters())

# the parametrizations API
torch.manual_seed(1111)
param_model = TCN(
    2, 1, channel_sizes, kernel_size=2, dropout=0.0, norm=nn.utils.parametrizations.weight_norm
)
pconv = param_model.tcn.network[0].conv1
pnames = sorted(n for n, _ in pconv.named_parameters())
param_losses = train_and_test(param_model)
print("parametrized:", pnames)
