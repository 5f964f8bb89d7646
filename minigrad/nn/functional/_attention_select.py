"""Which attention kernel runs: the dense one (``SDPBackend.MATH``) or the block-wise one
(``FLASH_ATTENTION``/``EFFICIENT_ATTENTION``), chosen by sequence length unless
:func:`sdpa_kernel` narrows the choice; and the block sizes of the block-wise kernel.

The dense kernel holds the (L, S) attention weights of every head from forward to backward;
the block-wise kernel walks (query block × key block) tiles with an online softmax and keeps
only the output and one log-sum-exp per query, so its memory grows as O(L + S) (without
dropout, whose bool mask it keeps). Below :data:`BLOCKWISE_FROM` keys the dense kernel is
faster and its memory is small.

The choice is global, as PyTorch's ``torch.nn.attention.sdpa_kernel`` flags are (not
thread-local).
"""

from __future__ import annotations

import contextlib
import enum

from ..._warnings import warn_user

__all__ = ["BLOCKWISE_FROM", "SDPBackend", "block_sizes", "sdpa_kernel"]

#: The key length from which the block-wise kernel runs when both kernels are enabled. Measured
#: forward+backward, float32, 4 heads of 64, one BLAS thread (README, the attention table): at
#: 1024 keys the block-wise kernel's peak is 14 MB against the dense one's 36 MB (B=1), 58
#: against 288 MB (B=8); its time is 1.07x (B=1) to 1.17x (B=8) the dense one's without a
#: causal mask (backward recomputes q·kᵀ: one more matrix product) and 0.70x with one (the
#: tiles above the diagonal are skipped); at 2048 keys 1.01-1.05x, for 7-11x less memory.
#: Below 1024 it is slower (1.2-1.3x) for little memory saved.
BLOCKWISE_FROM = 1024

# Tiles: key blocks of BLOCK_KEYS; query blocks of TILE_ELEMENTS / (BLOCK_KEYS x batch x heads),
# at least MIN_BLOCK_QUERIES (long blocks keep BLAS efficient) and at most the sequence.
BLOCK_KEYS = 256
TILE_ELEMENTS = 1 << 20
MIN_BLOCK_QUERIES = 256


class SDPBackend(enum.IntEnum):
    """The attention kernels, as ``torch.nn.attention.SDPBackend`` names them.

    ``MATH`` is minigrad's dense kernel; ``FLASH_ATTENTION`` and ``EFFICIENT_ATTENTION`` both
    name its block-wise (online-softmax) kernel (on CPU tensors only as far as PyTorch's CPU
    build runs them: :func:`check_cpu_backends`); ``CUDNN_ATTENTION`` and ``OVERRIDEABLE`` have no
    kernel here (enabling only those makes attention raise, as PyTorch does without a viable
    kernel); ``ERROR`` is PyTorch's "no kernel" value.
    """

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __str__(self) -> str:  # PyTorch's enum prints "SDPBackend.MATH", not IntEnum's "0"
        return f"SDPBackend.{self.name}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


_BLOCKWISE = (SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION)
_ALL = tuple(b for b in SDPBackend if b is not SDPBackend.ERROR)

_enabled: tuple = _ALL  # in priority order when _priority is set
_priority = False
_forced_blocks: tuple | None = None


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Let ``scaled_dot_product_attention`` use only ``backends`` inside the block.

    Args:
        backends: an :class:`SDPBackend` or a list of them.
        set_priority: take the list's order as the order of preference (the first enabled kernel
            that exists here runs); otherwise minigrad picks by sequence length.

    Example:
        >>> with sdpa_kernel(SDPBackend.FLASH_ATTENTION):   # the block-wise kernel, any length
        ...     y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    """
    global _enabled, _priority
    if isinstance(backends, SDPBackend):
        backends = [backends]
    if not isinstance(backends, (list, tuple)) or not all(
        isinstance(b, SDPBackend) for b in backends
    ):
        raise TypeError(
            f"sdpa_kernel: backends must be an SDPBackend or a list of SDPBackend, got {backends!r}"
        )
    previous = _enabled, _priority
    _enabled, _priority = tuple(dict.fromkeys(backends)), bool(set_priority)
    try:
        yield {}
    finally:
        _enabled, _priority = previous


def is_enabled(backend: SDPBackend) -> bool:
    """Whether ``backend`` may run now (``torch.backends.cuda.flash_sdp_enabled()`` & co.)."""
    return backend in _enabled


def set_enabled(backend: SDPBackend, enabled: bool) -> None:
    """Allow or forbid ``backend`` from now on (``torch.backends.cuda.enable_flash_sdp``)."""
    global _enabled
    others = tuple(b for b in _enabled if b is not backend)
    _enabled = (*others, backend) if enabled else others


@contextlib.contextmanager
def block_sizes(queries: int, keys: int):
    """Force the block-wise kernel's tile to ``queries`` × ``keys`` (tests use small tiles so
    that every code path of the kernel runs on small inputs). Not a public switch."""
    global _forced_blocks
    previous, _forced_blocks = _forced_blocks, (int(queries), int(keys))
    try:
        yield
    finally:
        _forced_blocks = previous


def flash_refusal(q, k, v, mask, dropout_p: float, enable_gqa: bool) -> str | None:
    """None where PyTorch's CPU flash kernel takes these inputs, else why not: its warning's
    words ("" where it gives none), its checks in its order (``use_flash_attention_cpp``);
    "empty" for an empty input (PyTorch returns before choosing a kernel).

    A mask of fewer than 2 dims on 4-D inputs is PyTorch's IndexError (it reads ``size(-2)``).
    """
    if 0 in (q.numel(), k.numel(), v.numel()):  # PyTorch selects no kernel for empty inputs
        return "empty"
    if dropout_p > 0.0:
        return "Both fused kernels do not support non-zero dropout."
    if not q.ndim == k.ndim == v.ndim == 4:
        return (
            "All fused kernels requires query, key and value to be 4 dimensional, but got Query "
            f"dim: {q.ndim}, Key dim: {k.ndim}, Value dim: {v.ndim} instead."
        )
    sizes = f"Query.sizes(): {list(q.shape)}, Key.sizes(): {list(k.shape)}, Value.sizes(): "
    broadcast = "To broadcast dense inputs, try using unsqueeze and expand_to before passing them"
    if not q.shape[0] == k.shape[0] == v.shape[0]:
        return (
            "For dense inputs, both fused kernels require query, key and value to have the same "
            f"batch_size. {sizes}{list(v.shape)} instead. {broadcast} into the kernel."
        )
    heads = (q.shape[1], k.shape[1], v.shape[1])
    if enable_gqa and heads[1] != heads[2]:
        return (
            "Both fused kernels require key and value to have the same num_heads and batch_size "
            f"but got: Key sizes: {list(k.shape)}, Value sizes: {list(v.shape)}, Query sizes: "
            f"{list(q.shape)} instead."
        )
    if enable_gqa and heads[0] % heads[1]:
        return (
            "The number of heads in key/value must divide number of heads in query.Got input Key "
            f"sizes(): {heads[1]}, Value sizes(): {heads[2]}, Query sizes(): {heads[0]} instead."
        )
    if not enable_gqa and len(set(heads)) > 1:
        return (
            "For dense input, both fused kernels require query, key and value to have the same "
            f"num_heads. Query.sizes(): {list(q.shape)}, Key sizes(): {list(k.shape)}, Value "
            f"sizes(): {list(v.shape)} instead. {broadcast} into the kernel."
        )
    if mask is not None:
        if mask.ndim < 2:
            raise IndexError(
                "Dimension out of range (expected to be in range of [-1, 0], but got -2)"
            )
        m, (batch, n_heads, length), source = mask.shape, q.shape[:3], k.shape[2]
        if mask.requires_grad or m[-2] not in (1, length) or m[-1] not in (1, source):
            return ""
        if not (mask.ndim == 2 or (mask.ndim == 4 and m[0] in (1, batch) and m[1] in (1, n_heads))):
            return (
                "Please use the following attn mask shapes: 2d - ({Q_seq_len, 1}  x {KV_seq_len, "
                "1}); 4d - ({Batch, 1} x {Num_heads, 1} x {Q_seq_len, 1}  x {KV_seq_len, 1})"
            )
    if not q.shape[-1] == k.shape[-1] == v.shape[-1]:
        return (
            "Flash attention requires q,k,v to have the same last dimension. Got Query.size(-1): "
            f"{q.shape[-1]}, Key.size(-1): {k.shape[-1]}, Value.size(-1): {v.shape[-1]} instead."
        )
    strides = (q.stride(-1), k.stride(-1), v.stride(-1))
    if strides != (1, 1, 1):
        return (
            "All fused kernels require the last dimension of the input to have stride 1. Got "
            f"Query.stride(-1): {strides[0]}, Key.stride(-1): {strides[1]}, Value.stride(-1): "
            f"{strides[2]}"
        )
    return None


def check_cpu_backends(refusal: str | None) -> None:
    """Refuse as PyTorch's CPU build does (``select_sdp_backend_cpp``): it has a flash kernel and
    the math one only, so with neither enabled (EFFICIENT_ATTENTION or CUDNN_ATTENTION alone)
    nothing runs, and with flash alone, inputs its flash kernel refuses (``refusal``, from
    :func:`flash_refusal`) raise after its two warnings. (minigrad's block-wise kernel has none of
    these limits; the private :func:`block_sizes` switch, for tests, runs it regardless.)"""
    if _forced_blocks is not None or refusal == "empty":
        return
    flash, dense = SDPBackend.FLASH_ATTENTION in _enabled, SDPBackend.MATH in _enabled
    if not (flash or dense):
        raise RuntimeError(
            "No viable backend for scaled_dot_product_attention was found. This is likely due to "
            "turning off both the math kernel and the fused kernels."
        )
    if refusal is not None and not dense:
        warn_user("Flash attention kernel not used because:")
        if refusal:
            warn_user(refusal)
        raise RuntimeError("No available kernel.  Aborting execution.")


def pytorch_flash_layout(refusal: str | None) -> bool:
    """Whether PyTorch's CPU dispatcher would pick its flash kernel (FLASH_ATTENTION enabled and
    :func:`flash_refusal` None): that kernel lays its output out as the query is, so a query made
    by ``view(B, L, H, D).transpose(1, 2)`` gives an output that
    ``transpose(1, 2).view(B, L, H * D)`` accepts. Values do not depend on it."""
    return refusal is None and SDPBackend.FLASH_ATTENTION in _enabled  # (no set_priority on CPU)


def choose_blocks(length: int, source: int, batch: int, causal: bool = False) -> tuple | None:
    """None for the dense kernel, else the (query, key) block sizes of the block-wise kernel.

    ``length``/``source``: query and key counts; ``batch``: the number of (batch, head) pairs;
    ``causal``: query blocks of at most MIN_BLOCK_QUERIES, so that the tiles above the diagonal
    (skipped) are many.
    """
    dense_ok = SDPBackend.MATH in _enabled
    blocks_ok = any(b in _enabled for b in _BLOCKWISE)
    if not (dense_ok or blocks_ok):
        names = ", ".join(b.name for b in _enabled) or "none"
        raise RuntimeError(
            f"scaled_dot_product_attention: no available kernel: the enabled backends ({names}) "
            f"have no kernel in minigrad; enable SDPBackend.MATH (dense) or "
            f"SDPBackend.FLASH_ATTENTION / EFFICIENT_ATTENTION (block-wise) with sdpa_kernel"
        )
    if _priority:
        first = next(b for b in _enabled if b is SDPBackend.MATH or b in _BLOCKWISE)
        use_blocks = first in _BLOCKWISE
    else:
        use_blocks = blocks_ok and (not dense_ok or source >= BLOCKWISE_FROM)
    if not use_blocks:
        return None
    if _forced_blocks is not None:
        return _forced_blocks
    keys = max(1, min(source, BLOCK_KEYS))
    queries = max(MIN_BLOCK_QUERIES, TILE_ELEMENTS // (keys * max(batch, 1)))
    if causal:
        queries = MIN_BLOCK_QUERIES
    return min(max(length, 1), queries), keys
