"""The flash-attention implementation registry of ``torch.nn.attention`` (FA3/FA4 CUDA kernels
swapped into PyTorch's dispatcher). minigrad runs its own attention kernels, so none is
available: listing gives ``[]``, activating raises, restoring does nothing."""

from __future__ import annotations

#: PyTorch warns when SDPA cannot use a fused kernel if this is True; minigrad never warns.
WARN_FOR_UNFUSED_KERNELS = False

_registered: dict = {}


def register_flash_attention_impl(impl: str, *, register_fn) -> None:
    """Record ``register_fn`` for ``impl`` (it is never called: minigrad has no CUDA FA kernels)."""
    _registered[str(impl)] = register_fn


def activate_flash_attention_impl(impl: str) -> None:
    """Raises: minigrad cannot swap in PyTorch's FA3/FA4 CUDA kernels."""
    raise NotImplementedError(
        f"activate_flash_attention_impl({impl!r}): minigrad has no pluggable flash attention "
        f"kernels (its scaled_dot_product_attention runs its own dense or block-wise kernel; "
        f"choose with sdpa_kernel)"
    )


def list_flash_attention_impls() -> list[str]:
    """The pluggable flash attention implementations: none in minigrad."""
    return []


def current_flash_attention_impl() -> str | None:
    """The activated pluggable implementation: always None in minigrad."""
    return None


def restore_flash_attention_impl(_raise_warn: bool = True) -> None:
    """Back to the default kernel: minigrad's is always active, so this does nothing."""
