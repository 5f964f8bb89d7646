"""``torch.distributed.rpc``, as in a PyTorch built without RPC: :func:`is_available` is False
and the module has nothing else (PyTorch's ``init_rpc``, ``rpc_async``, ``RRef`` exist only
where its C++ RPC agent was compiled in). Libraries that import it and check, as PyG's
distributed sampling does, import; minigrad's processes talk through ``minigrad.distributed``'s
collectives instead."""

__all__ = ["is_available"]


def is_available() -> bool:
    """False: minigrad has no RPC framework (remote calls, RRefs, distributed autograd)."""
    return False
