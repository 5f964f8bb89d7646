"""Griffin's recurrent block (De et al. 2024) as google-deepmind/recurrentgemma's PyTorch code
writes it: ``BlockDiagonalLinear`` gates (``einsum("... h i, h i j -> ... h j")``), the
RG-LRU with ``a = exp(-8 * gate_a * softplus(a_param))``, ``a_param`` initialised by in-place
``uniform_``/``log_``/``neg_``/``exp_``/``sub_`` chains, the ``SqrtBoundDerivative`` custom
Function (a clipped derivative of ``sqrt(1 - a^2)``), document resets from ``segment_pos ==
0``, ``rnn_scan`` writing ``y[:, t] = ...`` into a ``zeros_like`` buffer, the causal
``Conv1D`` of width 4 with its cache, and the block's GeLU branch; trained as a tiny language
model, then decoded step by step from the carried state and conv cache and checked against
the full-sequence run."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
_MAX_SQRT_GRADIENT = 1000.0


class SqrtBoundDerivative(torch.autograd.Function):
    """Computes a square root with a gradient clipped at `_MAX_SQRT_GRADIENT`."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sqrt(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        clipped_x_times_4 = torch.clip(4.0 * x, min=_MAX_SQRT_GRADIENT**-2)
        return grad_output / torch.sqrt(clipped_x_times_4)


def rnn_param_init(tensor, min_rad, max_rad, transform="softplus", eps=1e-8):
    with torch.no_grad():
        tensor.uniform_(min_rad**2 + eps, max_rad**2 + eps)
        tensor.log_().mul_(0.5)
        if transform == "softplus":
            return tensor.neg_().exp_().sub_(1.0).log_()
        raise NotImplementedError()


def rnn_scan(x, a, reset, h0, acc_dtype=torch.float32):
    assert x.shape == a.shape
    assert x.shape[:2] == reset.shape
    a = a * ~reset[..., None]
    if x.shape[1] == 1:
        if h0 is None:
            return x, x[:, 0].type(acc_dtype)
        y = a.type(acc_dtype) * h0[:, None] + x.type(acc_dtype)
        return y.type(x.dtype), y[:, -1]
    h_t = torch.zeros(x[:, 0].shape, dtype=acc_dtype, device=x.device) if h0 is None else h0
    y = torch.zeros_like(x)
    for t in range(x.shape[1]):
        y[:, t] = a[:, t].type(acc_dtype) * h_t + x[:, t].type(acc_dtype)
        h_t = y[:, t].type_as(x)
    return y, h_t


def rnn_scan_train(x, a, reset, h0, acc_dtype=torch.float32):
    """The scan for training: the reference loop saves ``h_t``, a view of ``y``, for the next
    product and then writes into ``y`` again, which autograd refuses; stack the steps."""
    a = a * ~reset[..., None]
    h_t = torch.zeros(x[:, 0].shape, dtype=acc_dtype, device=x.device) if h0 is None else h0
    ys = []
    for t in range(x.shape[1]):
        h_t = a[:, t].type(acc_dtype) * h_t + x[:, t].type(acc_dtype)
        ys.append(h_t)
    return torch.stack(ys, dim=1).type_as(x), h_t


class BlockDiagonalLinear(nn.Module):
    def __init__(self, width, num_blocks, w_init_variance_scale=1.0):
        super().__init__()
        self.width, self.num_blocks = width, num_blocks
        self.w_init_variance_scale = w_init_variance_scale
        self.block_width = width // num_blocks
        self.w = nn.Parameter(torch.empty([num_blocks, self.block_width, self.block_width]))
        self.b = nn.Parameter(torch.empty([num_blocks, self.block_width]))
        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.zeros_(self.b)
        std = math.sqrt(self.w_init_variance_scale / self.block_width)
        torch.nn.init.normal_(self.w, mean=0.0, std=std)

    def forward(self, x):
        x = x.unflatten(-1, (self.num_blocks, self.block_width))  # "... (h i) -> ... h i"
        y = torch.einsum("... h i, h i j -> ... h j", x, self.w) + self.b
        return y.flatten(-2)


class RGLRU(nn.Module):
    def __init__(self, width, num_heads):
        super().__init__()
        self.a_param = nn.Parameter(torch.empty([width]))
        self.input_gate = BlockDiagonalLinear(width, num_heads)
        self.a_gate = BlockDiagonalLinear(width, num_heads)
        rnn_param_init(self.a_param, min_rad=0.9, max_rad=0.999)

    def forward(self, x, segment_pos, prev_h=None):
        reset = segment_pos == 0
        gate_x = torch.sigmoid(self.input_gate(x))
        gate_a = torch.sigmoid(self.a_gate(x))
        log_a = -8.0 * gate_a * nn.functional.softplus(self.a_param)
        a = torch.exp(log_a)
        a_square = torch.exp(2 * log_a)
        gated_x = x * gate_x
        multiplier = SqrtBoundDerivative.apply(1 - a_square)
        multiplier = reset[..., None] + ~reset[..., None] * multiplier
        normalized_x = gated_x * multiplier.type(x.dtype)
        scan = rnn_scan_train if torch.is_grad_enabled() and self.training else rnn_scan
        y, last_h = scan(x=normalized_x, a=a, reset=reset, h0=prev_h)
        return y, last_h


class Conv1D(nn.Module):
    def __init__(self, width, temporal_width):
        super().__init__()
        self.temporal_width = temporal_width
        self.w = nn.Parameter(torch.randn([temporal_width, width]) / math.sqrt(temporal_width))
        self.b = nn.Parameter(torch.zeros([width]))

    def forward(self, x, segment_pos, cache=None):
        if cache is not None:  # decoding: one step, the last temporal_width - 1 inputs cached
            x_window = torch.concatenate([cache, x], dim=1)
            shifts = torch.arange(self.temporal_width - 1, -1, -1)
            mask = segment_pos >= shifts  # (B, temporal_width): not across a document start
            x = (x_window * mask[..., None] * self.w[None, :, :]).sum(dim=1, keepdim=True) + self.b
            return x, x_window[:, 1:]
        output_len = x.shape[1]
        conv_out = 0.0
        for shift in range(self.temporal_width):
            x_window = x[:, max(0, shift - output_len + 1) : output_len - shift]
            w = self.w[self.temporal_width - shift - 1]
            # do not look across a document boundary
            mask = (
                (segment_pos[:, shift:] >= shift) if shift else torch.ones_like(segment_pos).bool()
            )
            x_window = F.pad(x_window * mask[..., None], (0, 0, shift, 0))
            conv_out = conv_out + x_window * w[None, None, :]
        conv_out = conv_out + self.b[None, None]
        tail = F.pad(x, (0, 0, self.temporal_width - 1, 0))[:, -(self.temporal_width - 1) :]
        return conv_out, tail


class RecurrentBlock(nn.Module):
    def __init__(self, width, lru_width, num_heads, conv1d_temporal_width=4):
        super().__init__()
        self.linear_y = nn.Linear(width, lru_width)
        self.linear_x = nn.Linear(width, lru_width)
        self.linear_out = nn.Linear(lru_width, width)
        self.conv_1d = Conv1D(lru_width, conv1d_temporal_width)
        self.rg_lru = RGLRU(lru_width, num_heads)

    def forward(self, x, segment_pos, cache=None):
        y = self.linear_y(x)
        y = F.gelu(y, approximate="tanh")
        x = self.linear_x(x)
        conv_cache, rg_state = (None, None) if cache is None else cache
        x, conv_cache = self.conv_1d(x, segment_pos, conv_cache)
        x, rg_state = self.rg_lru(x, segment_pos, rg_state)
        x = x * y
        return self.linear_out(x), (conv_cache, rg_state)


class TinyGriffin(nn.Module):
    def __init__(self, vocab=11, width=16, lru_width=16, heads=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.norm1 = nn.RMSNorm(width, eps=1e-6)
        self.block = RecurrentBlock(width, lru_width, heads)
        self.norm2 = nn.RMSNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(width, 2 * width), nn.GELU("tanh"), nn.Linear(2 * width, width)
        )
        self.head = nn.Linear(width, vocab)

    def forward(self, tokens, segment_pos, cache=None):
        h = self.embed(tokens)
        out, cache = self.block(self.norm1(h), segment_pos, cache)
        h = h + out
        h = h + self.mlp(self.norm2(h))
        return self.head(h), cache


a_init = torch.exp(-8.0 * F.softplus(RGLRU(8, 2).a_param))
a_range = [a_init.min().item(), a_init.max().item()]

x = torch.tensor([0.0, 1e-9, 0.25], requires_grad=True)
SqrtBoundDerivative.apply(x).sum().backward()
sqrt_grad = x.grad.tolist()

# two documents packed per row: segment_pos restarts at 0 where a document starts
B, L = 8, 14
starts = torch.randint(3, 10, (B,))
segment_pos = torch.arange(L).repeat(B, 1)
segment_pos = torch.where(
    segment_pos >= starts[:, None], segment_pos - starts[:, None], segment_pos
)
period = torch.randint(2, 4, (B, 1))
tokens = (torch.randint(0, 5, (B, 1)) + segment_pos % period * 2) % 11
model = TinyGriffin()
x = torch.randn(2, 5, 16, requires_grad=True)
y, _ = rnn_scan(x, torch.rand(2, 5, 16).requires_grad_(), segment_pos[:2, :5] == 0, None)
y_grad_fn = type(y.grad_fn).__name__
try:
    y.sum().backward()
    inplace_error = None
except RuntimeError as e:
    inplace_error = str(e).split(", which")[0]
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
losses = []
for step in range(30):
    logits, _ = model(tokens[:, :-1], segment_pos[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 11), tokens[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    full, _ = model(tokens, segment_pos)
    prefill, cache = model(tokens[:, :6], segment_pos[:, :6])
    steps = [prefill]
    for t in range(6, L):
        out, cache = model(tokens[:, t : t + 1], segment_pos[:, t : t + 1], cache)
        steps.append(out)
    decoded = torch.cat(steps, dim=1)
decode_gap = (decoded - full).abs().max().item()
cache_shapes = [tuple(cache[0].shape), tuple(cache[1].shape)]
accuracy = (full[:, :-1].argmax(-1) == tokens[:, 1:]).float().mean().item()
