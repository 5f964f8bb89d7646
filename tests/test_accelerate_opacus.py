"""HuggingFace accelerate and opacus (differential privacy), run with ``torch`` bound to
minigrad (as under ``python -m minigrad.as_torch``) and with PyTorch, the two runs compared
number by number (helpers of tests/test_third_party_libs.py); each skips where its library is
not installed. Also the PyTorch behaviour they needed: safetensors' loading path (storage
slices, ``asarray`` of a storage, ``view(dtype=...)``)."""

import pytest

import minigrad


def test_storage_slices_and_byte_views_as_pytorch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        t = lib.arange(6, dtype=lib.float32)
        storage = t.untyped_storage()
        part = storage[8:16]  # a storage over the same bytes, as safetensors reads one
        as_bytes = lib.asarray(part, dtype=lib.uint8)
        floats = as_bytes.view(dtype=lib.float32)
        floats[1] = -1.0  # writes reach the tensor
        with pytest.raises(RuntimeError, match="only a step of 1 is supported"):
            storage[0:8:2]
        results.append(
            (
                type(part).__name__,
                part.nbytes(),
                storage.untyped() is storage,
                floats.tolist(),
                t.tolist(),
                lib.asarray(storage[0:8], dtype=lib.int32).tolist(),
            )
        )
    assert results[0] == results[1]
