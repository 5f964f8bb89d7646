"""WAV files for ``torchaudio.load``/``save``/``info``: a RIFF reader and writer in the
standard library and NumPy (PCM 8/16/24/32-bit, IEEE float 32/64-bit, plain or
WAVE_FORMAT_EXTENSIBLE). Other containers (FLAC, MP3, OGG, ...) raise, naming what works."""

from __future__ import annotations

import dataclasses
import io
import os
import struct

import numpy as np

import minigrad as torch

from .._warnings import warn_user

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
_SUPPORTED = "WAV (RIFF/WAVE: PCM 8/16/24/32-bit integer, 32/64-bit float)"


@dataclasses.dataclass
class AudioMetaData:
    """What :func:`info` reports: torchaudio's ``AudioMetaData`` fields."""

    sample_rate: int
    num_frames: int
    num_channels: int
    bits_per_sample: int
    encoding: str


@dataclasses.dataclass
class _Header:
    code: int
    channels: int
    sample_rate: int
    bits: int
    data_offset: int
    data_size: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.bits // 8

    @property
    def encoding(self) -> str:
        if self.code == _FLOAT:
            return "PCM_F"
        return "PCM_U" if self.bits == 8 else "PCM_S"


def _open(uri):
    """A binary file object for a path or a readable file-like object (not closed by us)."""
    if hasattr(uri, "read"):
        return uri, False
    return open(os.fspath(uri), "rb"), True


def _unsupported(uri, what):
    return RuntimeError(
        f"torchaudio.load: {uri!r} is not a WAV file ({what}); minigrad.audio reads and "
        f"writes {_SUPPORTED} only. Convert other formats to WAV first (for example with "
        "ffmpeg -i in.mp3 out.wav)."
    )


def _read_header(f, uri) -> _Header:
    """Parse RIFF chunks up to ``data``; the file is left at the first sample."""
    riff = f.read(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
        raise _unsupported(uri, f"starts with {riff[:4]!r}")
    fmt = None
    while True:
        head = f.read(8)
        if len(head) < 8:
            raise RuntimeError(f"torchaudio.load: {uri!r}: WAV file has no 'data' chunk")
        chunk, size = head[:4], struct.unpack("<I", head[4:])[0]
        if chunk == b"fmt ":
            body = f.read(size + (size & 1))
            code, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if code == _EXTENSIBLE and size >= 40:
                code = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID's first field
            fmt = (code, channels, rate, bits)
        elif chunk == b"data":
            if fmt is None:
                raise RuntimeError(f"torchaudio.load: {uri!r}: 'data' chunk before 'fmt '")
            code, channels, rate, bits = fmt
            if (code, bits) not in {(_PCM, 8), (_PCM, 16), (_PCM, 24), (_PCM, 32),
                                    (_FLOAT, 32), (_FLOAT, 64)}:  # fmt: skip
                raise _unsupported(uri, f"WAV format code {code} with {bits} bits per sample")
            return _Header(code, channels, rate, bits, f.tell(), size)
        else:
            f.seek(size + (size & 1), io.SEEK_CUR)


def info(uri, format=None, buffer_size: int = 4096, backend=None) -> AudioMetaData:
    """Sample rate, frame and channel counts, bits per sample and encoding (``"PCM_S"``,
    ``"PCM_U"``, ``"PCM_F"``) of a WAV file (torchaudio 2.0–2.8's ``info``; 2.9+ dropped it
    for torchcodec)."""
    f, owned = _open(uri)
    try:
        h = _read_header(f, uri)
    finally:
        if owned:
            f.close()
    return AudioMetaData(
        h.sample_rate, h.data_size // h.frame_bytes, h.channels, h.bits, h.encoding
    )


def _decode(raw: bytes, h: _Header, normalize: bool) -> np.ndarray:
    """Samples ``(frames, channels)``: float32 in [-1, 1) when ``normalize``, else the file's
    own type (uint8, int16, int32 — 24-bit widened to int32's top bits — or float)."""
    if h.code == _FLOAT:
        data = np.frombuffer(raw, dtype=f"<f{h.bits // 8}")
        return data.astype(np.float32) if normalize else data.copy()
    if h.bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        data = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)  # left-justified in int32
        bits = 32
    else:
        data = np.frombuffer(raw, dtype={8: "u1", 16: "<i2", 32: "<i4"}[h.bits]).copy()
        bits = h.bits
    if not normalize:
        return data
    if bits == 8:
        return ((data.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    return (data.astype(np.float64) / float(2 ** (bits - 1))).astype(np.float32)


def load(uri, frame_offset: int = 0, num_frames: int = -1, normalize: bool = True,
         channels_first: bool = True, format=None, buffer_size: int = 4096,
         backend=None):  # fmt: skip
    """``(waveform, sample_rate)`` from a WAV file: ``waveform`` is ``(channels, frames)``
    (``(frames, channels)`` when not ``channels_first``), float32 in [-1, 1] by default.

    ``normalize=False`` returns the file's own sample type (uint8, int16, int32, float), as
    torchaudio 2.0–2.8 did (2.9+ always returns float32). ``frame_offset``/``num_frames``
    read a slice (``num_frames=-1``: to the end).
    """
    if format is not None and format.lower() != "wav":
        raise _unsupported(uri, f"format={format!r}")
    f, owned = _open(uri)
    try:
        h = _read_header(f, uri)
        total = h.data_size // h.frame_bytes
        start = min(max(frame_offset, 0), total)
        count = total - start if num_frames < 0 else min(num_frames, total - start)
        f.seek(h.data_offset + start * h.frame_bytes)
        raw = f.read(count * h.frame_bytes)
    finally:
        if owned:
            f.close()
    samples = _decode(raw[: len(raw) - len(raw) % h.frame_bytes], h, normalize)
    samples = samples.reshape(-1, h.channels)
    if channels_first:
        samples = samples.T
    return torch.from_numpy(np.ascontiguousarray(samples)), h.sample_rate


_ENCODINGS = {("PCM_S", 16): "<i2", ("PCM_S", 32): "<i4", ("PCM_U", 8): "u1",
              ("PCM_F", 32): "<f4", ("PCM_F", 64): "<f8"}  # fmt: skip


def _default_encoding(dtype) -> tuple[str, int]:
    """torchaudio's default encoding for a tensor dtype: float → 32-bit float."""
    table = {torch.int16: ("PCM_S", 16), torch.int32: ("PCM_S", 32), torch.uint8: ("PCM_U", 8),
             torch.float64: ("PCM_F", 32)}  # fmt: skip
    return table.get(dtype, ("PCM_F", 32))


def _encode(samples: np.ndarray, encoding: str, bits: int) -> bytes:
    """Samples ``(frames, channels)`` as WAV data bytes in ``encoding``/``bits``; floats are
    clipped and scaled to integers, integer input is written as is."""
    dtype = np.dtype(_ENCODINGS[(encoding, bits)])
    if encoding != "PCM_F" and samples.dtype.kind == "f":
        if encoding == "PCM_U":
            samples = np.clip(np.round(samples * 128.0 + 128.0), 0, 255)
        else:
            top = 2 ** (bits - 1)
            samples = np.clip(np.round(samples.astype(np.float64) * top), -top, top - 1)
    return samples.astype(dtype).tobytes()


def save(uri, src, sample_rate: int, channels_first: bool = True, format=None, encoding=None,
         bits_per_sample=None, buffer_size: int = 4096, backend=None,
         compression=None):  # fmt: skip
    """Write ``src`` (``(channels, frames)``, or 1-D mono) to a WAV file at ``uri``.

    ``encoding`` ``"PCM_S"`` (16/32-bit), ``"PCM_U"`` (8-bit) or ``"PCM_F"`` (32/64-bit) with
    ``bits_per_sample``; by default float tensors are written as 32-bit float and integer
    tensors in their own width, as torchaudio 2.0–2.8 did.
    """
    path = os.fspath(uri)
    fmt = (format or os.path.splitext(path)[1].lstrip(".") or "wav").lower()
    if fmt != "wav":
        raise RuntimeError(
            f"torchaudio.save: format {fmt!r} is not supported; minigrad.audio writes {_SUPPORTED}."
        )
    if compression is not None:
        warn_user("torchaudio.save: compression has no effect on WAV files")
    if src.ndim == 1:
        src = src.unsqueeze(0 if channels_first else 1)
    if src.ndim != 2:
        raise ValueError(f"Expected 2D Tensor, got {src.ndim}D.")
    default_encoding, default_bits = _default_encoding(src.dtype)
    encoding = encoding or default_encoding
    bits = bits_per_sample or ({"PCM_U": 8}.get(encoding) or default_bits)
    if (encoding, bits) not in _ENCODINGS:
        raise ValueError(
            f"torchaudio.save: encoding={encoding!r} with bits_per_sample={bits} is not "
            f"supported for WAV; use one of {sorted(_ENCODINGS)}"
        )
    samples = src.detach().cpu().numpy()
    samples = samples.T if channels_first else samples
    data = _encode(np.ascontiguousarray(samples), encoding, bits)
    channels = samples.shape[1]
    code = _FLOAT if encoding == "PCM_F" else _PCM
    block = channels * bits // 8
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, code, channels, int(sample_rate),
                                    int(sample_rate) * block, block, bits)  # fmt: skip
    header += b"data" + struct.pack("<I", len(data))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header + data + (b"\0" if len(data) & 1 else b""))
    os.replace(tmp, path)
