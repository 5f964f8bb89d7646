"""Next-frame prediction with ConvLSTM (Shi et al. 2015) as ndrplz/ConvLSTM_pytorch writes its
``ConvLSTMCell`` (the input and hidden state concatenated, one Conv2d for the four gates,
``torch.split`` into i, f, o, g) and ``ConvLSTM`` (``batch_first`` clips of shape (b, t, c, h,
w), states from ``init_hidden`` zeros, ``torch.stack(output_inner, dim=1)``), as an
encoder-forecaster on Moving-MNIST-like clips of a bouncing square: the model reads five frames
and predicts the next three, trained with BCEWithLogitsLoss and teacher forcing, then rolled out
on its own sigmoid outputs."""

import torch
import torch.nn as nn

torch.manual_seed(0)
S, T_IN, T_OUT = 8, 5, 3


def bouncing_clips(n, t):
    clips = torch.zeros(n, t, 1, S, S)
    pos = torch.randint(0, S - 2, (n, 2)).float()
    vel = torch.randint(0, 2, (n, 2)).float() * 2 - 1
    for step in range(t):
        for i in range(n):
            y, x = int(pos[i, 0]), int(pos[i, 1])
            clips[i, step, 0, y : y + 2, x : x + 2] = 1.0
        pos = pos + vel
        bounce = (pos < 0) | (pos > S - 2)
        vel = torch.where(bounce, -vel, vel)
        pos = pos.clamp(0, S - 2) + torch.where(bounce, vel, torch.zeros_like(vel))
    return clips


class ConvLSTMCell(nn.Module):
    def __init__(self, input_dim, hidden_dim, kernel_size, bias):
        super().__init__()
        self.input_dim, self.hidden_dim = input_dim, hidden_dim
        self.kernel_size = kernel_size
        self.padding = kernel_size[0] // 2, kernel_size[1] // 2
        self.conv = nn.Conv2d(
            in_channels=self.input_dim + self.hidden_dim,
            out_channels=4 * self.hidden_dim,
            kernel_size=self.kernel_size,
            padding=self.padding,
            bias=bias,
        )

    def forward(self, input_tensor, cur_state):
        h_cur, c_cur = cur_state
        combined = torch.cat([input_tensor, h_cur], dim=1)
        combined_conv = self.conv(combined)
        cc_i, cc_f, cc_o, cc_g = torch.split(combined_conv, self.hidden_dim, dim=1)
        i = torch.sigmoid(cc_i)
        f = torch.sigmoid(cc_f)
        o = torch.sigmoid(cc_o)
        g = torch.tanh(cc_g)
        c_next = f * c_cur + i * g
        h_next = o * torch.tanh(c_next)
        return h_next, c_next

    def init_hidden(self, batch_size, image_size):
        height, width = image_size
        return (
            torch.zeros(batch_size, self.hidden_dim, height, width, device=self.conv.weight.device),
            torch.zeros(batch_size, self.hidden_dim, height, width, device=self.conv.weight.device),
        )


class ConvLSTM(nn.Module):
    def __init__(self, input_dim, hidden_dim, kernel_size, batch_first=True):
        super().__init__()
        self.batch_first = batch_first
        self.cell = ConvLSTMCell(input_dim, hidden_dim, kernel_size, bias=True)

    def forward(self, input_tensor, hidden_state=None):
        if not self.batch_first:
            input_tensor = input_tensor.permute(1, 0, 2, 3, 4)
        b, seq_len, _, h, w = input_tensor.size()
        if hidden_state is None:
            hidden_state = self.cell.init_hidden(b, (h, w))
        hc, output_inner = hidden_state, []
        for t in range(seq_len):
            hc = self.cell(input_tensor[:, t, :, :, :], hc)
            output_inner.append(hc[0])
        return torch.stack(output_inner, dim=1), hc


class EncoderForecaster(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.encoder = ConvLSTM(1, hidden, (3, 3))
        self.forecaster = ConvLSTM(1, hidden, (3, 3))
        self.head = nn.Conv2d(hidden, 1, 1)

    def forward(self, frames, future=None):
        _, state = self.encoder(frames)
        last, logits = frames[:, -1:], []
        for t in range(T_OUT):
            out, state = self.forecaster(last, state)
            logit = self.head(out[:, 0]).unsqueeze(1)
            logits.append(logit)
            # teacher forcing while training; its own prediction when rolling out
            last = future[:, t : t + 1] if future is not None else torch.sigmoid(logit)
        return torch.cat(logits, dim=1)


clips = bouncing_clips(24, T_IN + T_OUT)
test = bouncing_clips(8, T_IN + T_OUT)
model = EncoderForecaster()
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.RMSprop(model.parameters(), lr=3e-3)
losses = []
for epoch in range(5):
    for idx in torch.randperm(24).split(8):
        x, y = clips[idx, :T_IN], clips[idx, T_IN:]
        loss = criterion(model(x, future=y), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
with torch.no_grad():
    rollout = torch.sigmoid(model(test[:, :T_IN]))
    truth = test[:, T_IN:]
    rollout_bce = nn.functional.binary_cross_entropy(rollout, truth).item()
    copy_last_mse = ((test[:, T_IN - 1 : T_IN] - truth) ** 2).mean().item()
    rollout_mse = ((rollout - truth) ** 2).mean().item()
rollout_shape = tuple(rollout.shape)
gate_bias_sample = model.forecaster.cell.conv.bias.detach()[::8].tolist()
