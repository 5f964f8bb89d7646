"""torchaudio.models.HDemucs (Défossez, 2021, "Hybrid Spectrogram and Waveform Source
Separation"): two U-Nets, one over the waveform and one over the normalized STFT (real and
imaginary parts as channels), sharing their innermost layers; each layer a strided conv,
group norm + GELU and a residual dilated-conv block (``_DConv``, with a BiLSTM and local
attention in the deep layers). ``hdemucs_low``/``_medium``/``_high`` are torchaudio's
configurations. torchaudio's module names and initialization (convolutions rescaled to a
weight std of ~0.1), so its state_dicts load; no pretrained weights (those come through
``pipelines``)."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad import nn
from minigrad.nn import functional as F


class _ScaledEmbedding(nn.Module):
    """An embedding stored divided by ``scale`` (a larger effective learning rate), optionally
    smoothed as a running mean over the rows at initialization."""

    def __init__(self, num_embeddings, embedding_dim, scale=10.0, smooth=False):
        super().__init__()
        self.embedding = nn.Embedding(num_embeddings, embedding_dim)
        weight = self.embedding.weight
        with torch.no_grad():
            if smooth and not weight.is_meta:  # (meta tensors have no values to smooth)
                smoothed = torch.cumsum(weight, dim=0)
                weight.copy_(smoothed / torch.arange(1, num_embeddings + 1).sqrt()[:, None])
            weight.div_(scale)
        self.scale = scale

    @property
    def weight(self):
        return self.embedding.weight * self.scale

    def forward(self, x):
        return self.embedding(x) * self.scale


def _norm_fn(norm_type, groups):
    return (
        (lambda d: nn.GroupNorm(groups, d))
        if norm_type == "group_norm"
        else (lambda d: nn.Identity())
    )


class _HEncLayer(nn.Module):
    """Encoder layer: strided conv (2-D over (freq, time) with ``freq``), norm + GELU,
    ``_DConv``, 1x1 (or ``context``) conv + norm + GLU; ``empty`` keeps only the conv."""

    def __init__(self, chin, chout, kernel_size=8, stride=4, norm_groups=4, empty=False,
                 freq=True, norm_type="group_norm", context=0, dconv_kw=None, pad=True):  # fmt: skip
        super().__init__()
        norm_fn = _norm_fn(norm_type, norm_groups)
        pad_val = kernel_size // 4 if pad else 0
        self.freq, self.kernel_size, self.stride, self.empty, self.pad = (
            freq, kernel_size, stride, empty, pad_val
        )  # fmt: skip
        klass = nn.Conv1d
        if freq:
            kernel_size, stride, pad_val, klass = (
                [kernel_size, 1],
                [stride, 1],
                [pad_val, 0],
                nn.Conv2d,
            )
        self.conv = klass(chin, chout, kernel_size, stride, pad_val)
        self.norm1 = norm_fn(chout)
        if empty:
            self.rewrite, self.norm2, self.dconv = nn.Identity(), nn.Identity(), nn.Identity()
        else:
            self.rewrite = klass(chout, 2 * chout, 1 + 2 * context, 1, context)
            self.norm2 = norm_fn(2 * chout)
            self.dconv = _DConv(chout, **(dconv_kw or {}))

    def forward(self, x, inject=None):
        if not self.freq and x.dim() == 4:
            x = x.view(x.shape[0], -1, x.shape[-1])
        if not self.freq and x.shape[-1] % self.stride:
            x = F.pad(x, (0, self.stride - x.shape[-1] % self.stride))
        y = self.conv(x)
        if self.empty:
            return y
        if inject is not None:
            if inject.shape[-1] != y.shape[-1]:
                raise ValueError("Injection shapes do not align")
            if inject.dim() == 3 and y.dim() == 4:
                inject = inject[:, :, None]
            y = y + inject
        y = F.gelu(self.norm1(y))
        if self.freq:
            b, c, fr, t = y.shape
            y = self.dconv(y.permute(0, 2, 1, 3).reshape(-1, c, t))
            y = y.view(b, fr, c, t).permute(0, 2, 1, 3)
        else:
            y = self.dconv(y)
        return F.glu(self.norm2(self.rewrite(y)), dim=1)


class _HDecLayer(nn.Module):
    """Decoder layer: skip added, ``context`` conv + norm + GLU, transposed strided conv,
    norm (+ GELU unless ``last``), trimmed to the encoder's length."""

    def __init__(self, chin, chout, last=False, kernel_size=8, stride=4, norm_groups=1,
                 empty=False, freq=True, norm_type="group_norm", context=1, dconv_kw=None,
                 pad=True):  # fmt: skip
        super().__init__()
        norm_fn = _norm_fn(norm_type, norm_groups)
        if pad:
            if (kernel_size - stride) % 2 != 0:
                raise ValueError("Kernel size and stride do not align")
            pad = (kernel_size - stride) // 2
        else:
            pad = 0
        self.pad, self.last, self.freq, self.chin, self.empty = pad, last, freq, chin, empty
        self.stride, self.kernel_size = stride, kernel_size
        klass, klass_tr = nn.Conv1d, nn.ConvTranspose1d
        if freq:
            kernel_size, stride = [kernel_size, 1], [stride, 1]
            klass, klass_tr = nn.Conv2d, nn.ConvTranspose2d
        self.conv_tr = klass_tr(chin, chout, kernel_size, stride)
        self.norm2 = norm_fn(chout)
        if empty:
            self.rewrite, self.norm1 = nn.Identity(), nn.Identity()
        else:
            self.rewrite = klass(chin, 2 * chin, 1 + 2 * context, 1, context)
            self.norm1 = norm_fn(2 * chin)

    def forward(self, x, skip, length):
        if self.freq and x.dim() == 3:
            x = x.view(x.shape[0], self.chin, -1, x.shape[-1])
        if not self.empty:
            y = F.glu(self.norm1(self.rewrite(x + skip)), dim=1)
        else:
            if skip is not None:
                raise ValueError("Skip must be none when empty is true.")
            y = x
        z = self.norm2(self.conv_tr(y))
        if self.freq:
            if self.pad:
                z = z[..., self.pad : -self.pad, :]
        else:
            z = z[..., self.pad : self.pad + length]
            if z.shape[-1] != length:
                raise ValueError("Last index of z must be equal to length")
        return (z if self.last else F.gelu(z)), y


def _unfold(a, kernel_size, stride):
    """Frames of ``kernel_size`` every ``stride`` over the last dim, zero-padded to cover it."""
    length = a.shape[-1]
    n_frames = math.ceil(length / stride)
    a = F.pad(a, [0, (n_frames - 1) * stride + kernel_size - length])
    return a.unfold(-1, kernel_size, stride)


class _BLSTM(nn.Module):
    """A bidirectional LSTM + linear over ``(B, C, T)`` (plus the input with ``skip``); sequences
    longer than 200 steps run in half-overlapping windows of 200."""

    def __init__(self, dim, layers=1, skip=False):
        super().__init__()
        self.max_steps = 200
        self.lstm = nn.LSTM(bidirectional=True, num_layers=layers, hidden_size=dim, input_size=dim)
        self.linear = nn.Linear(2 * dim, dim)
        self.skip = skip

    def forward(self, x):
        b, c, t = x.shape
        y, framed = x, self.max_steps is not None and t > self.max_steps
        if framed:
            width = self.max_steps
            stride = width // 2
            frames = _unfold(x, width, stride)
            nframes = frames.shape[2]
            x = frames.permute(0, 2, 1, 3).reshape(-1, c, width)
        x = self.linear(self.lstm(x.permute(2, 0, 1))[0]).permute(1, 2, 0)
        if framed:
            frames, limit = x.reshape(b, -1, c, width), stride // 2
            out = [frames[:, k, :, (limit if k else 0) : (width - limit if k < nframes - 1 else width)]
                   for k in range(nframes)]  # fmt: skip
            x = torch.cat(out, -1)[..., :t]
        return x + y if self.skip else x


class _LocalState(nn.Module):
    """Local attention over time with learned per-head decays of the distance ``|t - s|``."""

    def __init__(self, channels, heads=4, ndecay=4):
        super().__init__()
        if channels % heads != 0:
            raise ValueError("Channels must be divisible by heads.")
        self.heads, self.ndecay = heads, ndecay
        self.content = nn.Conv1d(channels, channels, 1)
        self.query = nn.Conv1d(channels, channels, 1)
        self.key = nn.Conv1d(channels, channels, 1)
        self.query_decay = nn.Conv1d(channels, heads * ndecay, 1)
        if ndecay:
            with torch.no_grad():
                self.query_decay.weight.mul_(0.01)
                self.query_decay.bias.fill_(-2)
        self.proj = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        b, c, t = x.shape
        indexes = torch.arange(t, device=x.device, dtype=x.dtype)
        delta = indexes[:, None] - indexes[None, :]
        queries = self.query(x).view(b, self.heads, -1, t)
        keys = self.key(x).view(b, self.heads, -1, t)
        dots = torch.einsum("bhct,bhcs->bhts", keys, queries) / math.sqrt(keys.shape[2])
        if self.ndecay:
            decays = torch.arange(1, self.ndecay + 1, device=x.device, dtype=x.dtype)
            decay_q = torch.sigmoid(self.query_decay(x).view(b, self.heads, -1, t)) / 2
            decay_kernel = -decays.view(-1, 1, 1) * delta.abs() / math.sqrt(self.ndecay)
            dots = dots + torch.einsum("fts,bhfs->bhts", decay_kernel, decay_q)
        dots = dots.masked_fill(torch.eye(t, device=dots.device, dtype=torch.bool), -100)
        weights = torch.softmax(dots, dim=2)
        content = self.content(x).view(b, self.heads, -1, t)
        result = torch.einsum("bhts,bhct->bhcs", weights, content).reshape(b, -1, t)
        return x + self.proj(result)


class _LayerScale(nn.Module):
    """Per-channel scale initialized to ``init`` (a small residual branch at the start)."""

    def __init__(self, channels, init=0.0):
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x):
        return self.scale[:, None] * x


class _DConv(nn.Module):
    """``depth`` residual branches of dilated conv, norm, GELU, (BiLSTM, local attention,)
    1x1 conv, norm, GLU and a layer scale."""

    def __init__(self, channels, compress=4, depth=2, init=1e-4, norm_type="group_norm",
                 attn=False, heads=4, ndecay=4, lstm=False, kernel_size=3):  # fmt: skip
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError("Kernel size should not be divisible by 2")
        self.channels, self.compress, self.depth = channels, compress, abs(depth)
        norm_fn = _norm_fn(norm_type, 1)
        hidden = int(channels / compress)
        self.layers = nn.ModuleList([])
        for d in range(self.depth):
            dilation = 2**d if depth > 0 else 1
            mods = [
                nn.Conv1d(channels, hidden, kernel_size, dilation=dilation,
                          padding=dilation * (kernel_size // 2)),
                norm_fn(hidden), nn.GELU(), nn.Conv1d(hidden, 2 * channels, 1),
                norm_fn(2 * channels), nn.GLU(1), _LayerScale(channels, init),
            ]  # fmt: skip
            if attn:
                mods.insert(3, _LocalState(hidden, heads=heads, ndecay=ndecay))
            if lstm:
                mods.insert(3, _BLSTM(hidden, layers=2, skip=True))
            self.layers.append(nn.Sequential(*mods))

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x)
        return x


def _rescale_module(module):
    """Scale every conv's weight and bias by ``sqrt(0.1 / std(weight))`` (Demucs' init)."""
    convs = (nn.Conv1d, nn.ConvTranspose1d, nn.Conv2d, nn.ConvTranspose2d)
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, convs) and not sub.weight.is_meta:  # (meta: shapes only)
                scale = (sub.weight.std() / 0.1) ** 0.5
                sub.weight.div_(scale)
                if sub.bias is not None:
                    sub.bias.div_(scale)


def _spectro(x, n_fft=512, hop_length=0, pad=0):
    """Normalized centred STFT of ``x (..., time)`` with a Hann window."""
    shape, length = list(x.shape[:-1]), x.shape[-1]
    z = torch.stft(x.reshape(-1, length), n_fft * (1 + pad), hop_length,
                   window=torch.hann_window(n_fft).to(x), win_length=n_fft, normalized=True,
                   center=True, return_complex=True, pad_mode="reflect")  # fmt: skip
    return z.view(shape + list(z.shape[1:]))


def _ispectro(z, hop_length=0, length=0, pad=0):
    """The inverse of :func:`_spectro`, ``length`` samples."""
    shape, freqs, frames = list(z.shape[:-2]), z.shape[-2], z.shape[-1]
    n_fft = 2 * freqs - 2
    win_length = n_fft // (1 + pad)
    x = torch.istft(z.view(-1, freqs, frames), n_fft, hop_length,
                    window=torch.hann_window(win_length).to(z.real), win_length=win_length,
                    normalized=True, length=length, center=True)  # fmt: skip
    return x.view(shape + [x.shape[-1]])


class HDemucs(nn.Module):
    """Hybrid Demucs with torchaudio's arguments: ``forward(input (batch, audio_channels,
    frames))`` returns ``(batch, len(sources), audio_channels, frames)``."""

    def __init__(self, sources, audio_channels=2, channels=48, growth=2, nfft=4096, depth=6,
                 freq_emb=0.2, emb_scale=10, emb_smooth=True, kernel_size=8, time_stride=2,
                 stride=4, context=1, context_enc=0, norm_starts=4, norm_groups=4,
                 dconv_depth=2, dconv_comp=4, dconv_attn=4, dconv_lstm=4, dconv_init=1e-4):  # fmt: skip
        super().__init__()
        self.depth, self.nfft, self.audio_channels, self.sources = (
            depth,
            nfft,
            audio_channels,
            sources,
        )
        self.kernel_size, self.context, self.stride, self.channels = (
            kernel_size,
            context,
            stride,
            channels,
        )
        self.hop_length = nfft // 4
        self.freq_emb = None
        self.freq_encoder, self.freq_decoder = nn.ModuleList(), nn.ModuleList()
        self.time_encoder, self.time_decoder = nn.ModuleList(), nn.ModuleList()
        chin, chout = audio_channels, channels
        chin_z, chout_z = chin * 2, channels
        freqs = nfft // 2
        for index in range(depth):
            freq = freqs > 1
            ker, stri = kernel_size, stride
            if not freq:
                if freqs != 1:
                    raise ValueError("When freq is false, freqs must be 1.")
                ker, stri = time_stride * 2, time_stride
            pad, last_freq = True, False
            if freq and freqs <= kernel_size:
                ker, pad, last_freq = freqs, False, True
            kw = {"kernel_size": ker, "stride": stri, "freq": freq, "pad": pad,
                  "norm_type": "group_norm" if index >= norm_starts else "none",
                  "norm_groups": norm_groups,
                  "dconv_kw": {"lstm": index >= dconv_lstm, "attn": index >= dconv_attn,
                               "depth": dconv_depth, "compress": dconv_comp, "init": dconv_init}}  # fmt: skip
            kwt = dict(kw, freq=0, kernel_size=kernel_size, stride=stride, pad=True)
            if last_freq:
                chout_z = max(chout, chout_z)
                chout = chout_z
            enc = _HEncLayer(chin_z, chout_z, context=context_enc, **kw)
            if freq:
                if last_freq and nfft == 2048:
                    kwt["stride"], kwt["kernel_size"] = 2, 4
                self.time_encoder.append(
                    _HEncLayer(chin, chout, context=context_enc, empty=last_freq, **kwt)
                )
            self.freq_encoder.append(enc)
            if index == 0:
                chin = audio_channels * len(sources)
                chin_z = chin * 2
            dec = _HDecLayer(chout_z, chin_z, last=index == 0, context=context, **kw)
            if freq:
                self.time_decoder.insert(
                    0,
                    _HDecLayer(
                        chout, chin, empty=last_freq, last=index == 0, context=context, **kwt
                    ),
                )
            self.freq_decoder.insert(0, dec)
            chin, chin_z = chout, chout_z
            chout, chout_z = int(growth * chout), int(growth * chout_z)
            if freq:
                freqs = 1 if freqs <= kernel_size else freqs // stride
            if index == 0 and freq_emb:
                self.freq_emb = _ScaledEmbedding(freqs, chin_z, smooth=emb_smooth, scale=emb_scale)
                self.freq_emb_scale = freq_emb
        _rescale_module(self)

    def _spec(self, x):
        hl = self.hop_length
        if hl != self.nfft // 4:
            raise ValueError("Hop length must be nfft // 4")
        le = int(math.ceil(x.shape[-1] / hl))
        pad = hl // 2 * 3
        x = self._pad1d(x, pad, pad + le * hl - x.shape[-1], mode="reflect")
        z = _spectro(x, self.nfft, hl)[..., :-1, :]
        if z.shape[-1] != le + 4:
            raise ValueError(
                "Spectrogram's last dimension must be 4 + input size divided by stride"
            )
        return z[..., 2 : 2 + le]

    def _ispec(self, z, length=None):
        hl = self.hop_length
        z = F.pad(F.pad(z, [0, 0, 0, 1]), [2, 2])
        pad = hl // 2 * 3
        x = _ispectro(z, hl, length=hl * int(math.ceil(length / hl)) + 2 * pad)
        return x[..., pad : pad + length]

    def _pad1d(self, x, padding_left, padding_right, mode="zero", value=0.0):
        """``F.pad`` that zero-extends a signal too short to reflect first."""
        if mode == "reflect":
            max_pad = max(padding_left, padding_right)
            if x.shape[-1] <= max_pad:
                x = F.pad(x, (0, max_pad - x.shape[-1] + 1))
        return F.pad(
            x, (padding_left, padding_right), "constant" if mode == "zero" else mode, value
        )

    def _magnitude(self, z):
        b, c, fr, t = z.shape
        return torch.view_as_real(z).permute(0, 1, 4, 2, 3).reshape(b, c * 2, fr, t)

    def _mask(self, m):
        b, s, c, fr, t = m.shape
        out = m.view(b, s, -1, 2, fr, t).permute(0, 1, 2, 4, 5, 3)
        return torch.view_as_complex(out.contiguous())

    def forward(self, input):
        if input.ndim != 3:
            raise ValueError(
                f"Expected 3D tensor with dimensions (batch, channel, frames). Found: {input.shape}"
            )
        if input.shape[1] != self.audio_channels:
            raise ValueError(
                "The channel dimension of input Tensor must match `audio_channels` of HDemucs "
                f"model. Found:{input.shape[1]}."
            )
        length = input.shape[-1]
        x = self._magnitude(self._spec(input))
        b, _, fq, t = x.shape
        mean, std = x.mean(dim=(1, 2, 3), keepdim=True), x.std(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) / (1e-5 + std)
        meant, stdt = input.mean(dim=(1, 2), keepdim=True), input.std(dim=(1, 2), keepdim=True)
        xt = (input - meant) / (1e-5 + stdt)
        saved, saved_t, lengths, lengths_t = [], [], [], []
        for idx, encode in enumerate(self.freq_encoder):
            lengths.append(x.shape[-1])
            inject = None
            if idx < len(self.time_encoder):
                lengths_t.append(xt.shape[-1])
                tenc = self.time_encoder[idx]
                xt = tenc(xt)
                if not tenc.empty:
                    saved_t.append(xt)
                else:
                    inject = xt
            x = encode(x, inject)
            if idx == 0 and self.freq_emb is not None:
                frs = torch.arange(x.shape[-2], device=x.device)
                emb = self.freq_emb(frs).t()[None, :, :, None].expand_as(x)
                x = x + self.freq_emb_scale * emb
            saved.append(x)
        x = torch.zeros_like(x)
        xt = torch.zeros_like(x)
        offset = self.depth - len(self.time_decoder)
        for idx, decode in enumerate(self.freq_decoder):
            x, pre = decode(x, saved.pop(-1), lengths.pop(-1))
            if idx >= offset:
                tdec = self.time_decoder[idx - offset]
                length_t = lengths_t.pop(-1)
                if tdec.empty:
                    if pre.shape[2] != 1:
                        raise ValueError(
                            f"If tdec empty is True, pre shape does not match {pre.shape}"
                        )
                    xt, _ = tdec(pre[:, :, 0], None, length_t)
                else:
                    xt, _ = tdec(xt, saved_t.pop(-1), length_t)
        n_sources = len(self.sources)
        x = x.view(b, n_sources, -1, fq, t) * std[:, None] + mean[:, None]
        x = self._ispec(self._mask(x), length)
        xt = xt.view(b, n_sources, -1, length) * stdt[:, None] + meant[:, None]
        return xt + x


def hdemucs_low(sources):
    """HDemucs for 8 kHz-class inputs (``nfft=1024``, ``depth=5``)."""
    return HDemucs(sources=sources, nfft=1024, depth=5)


def hdemucs_medium(sources):
    """HDemucs for 16 kHz-class inputs (``nfft=2048``, ``depth=6``)."""
    return HDemucs(sources=sources, nfft=2048, depth=6)


def hdemucs_high(sources):
    """HDemucs for 44.1 kHz inputs (``nfft=4096``, ``depth=6``)."""
    return HDemucs(sources=sources, nfft=4096, depth=6)
