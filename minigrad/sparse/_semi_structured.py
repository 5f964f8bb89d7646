"""``minigrad.sparse.to_sparse_semi_structured``, as ``torch.sparse``'s: 2:4 semi-structured
sparsity is a CUDA tensor-core format (cuSPARSELt / CUTLASS kernels), which minigrad has
not; the function refuses a CPU tensor with PyTorch's error and a GPU one by name."""

from __future__ import annotations


def to_sparse_semi_structured(original_tensor, transposed: bool = False):
    """PyTorch's conversion of a dense 2-D CUDA matrix with two zeros in every four to a
    ``SparseSemiStructuredTensor``. A CPU tensor is PyTorch's ``RuntimeError`` (its kernels
    are CUDA-only); on a GPU, ``NotImplementedError``: minigrad has no 2:4 sparse kernels
    (keep the matrix dense, or prune it with ``minigrad.nn.utils.prune``)."""
    device = original_tensor.device
    if device.type != "cuda":
        raise RuntimeError(
            f"Error original_tensor.device= {device} is not supported! Only CUDA tensors are "
            "currently supported."
        )
    raise NotImplementedError(
        "to_sparse_semi_structured: minigrad has no 2:4 semi-structured sparse kernels "
        "(PyTorch's cuSPARSELt/CUTLASS); keep the matrix dense"
    )
