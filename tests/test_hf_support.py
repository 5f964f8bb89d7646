"""What HuggingFace transformers, peft and safetensors need from ``torch`` beyond the core,
checked against PyTorch without transformers installed (tests/test_hf_transformers.py runs the
library itself): safetensors' storage reads, ``view(dtype=)``, ``TransformGetItemToIndex``,
the FSDP names (FSDP itself raises), the ``torch._dynamo``/``torch.compiler`` hints,
``ModuleDict.update`` from a ModuleDict, pytree's dict helpers and ``torch.cuda``'s stream
context. The distributed pieces (all_to_all_single, functional collectives, local shapes of
DTensors) run in tests/test_dtensor.py's jobs."""

import dataclasses
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex


def test_safetensors_reads_bytes_through_an_untyped_storage(tmp_path):
    """safetensors' loader: ``UntypedStorage.from_file(...).untyped()[a:b]`` into
    ``asarray(..., dtype=uint8).view(dtype=...)``."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "blob.bin"
    values = np.arange(6, dtype=np.float32)
    path.write_bytes(b"\x01\x02" + values.tobytes())
    results = []
    for lib in (minigrad, torch):
        storage = lib.UntypedStorage.from_file(str(path), shared=False, nbytes=26).untyped()
        piece = storage[2:26]
        assert isinstance(piece, lib.UntypedStorage) and len(piece) == 24
        t = lib.asarray(piece, dtype=lib.uint8).view(dtype=lib.float32).reshape([2, 3])
        results.append(t.numpy().copy())
        with pytest.raises(RuntimeError, match="slices are only supported"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (PyTorch's TypedStorage deprecation)
                lib.FloatStorage(4)[0:2]
    np.testing.assert_array_equal(results[0], values.reshape(2, 3))
    np.testing.assert_array_equal(results[0], results[1])
    x = minigrad.ones(2)
    assert x.untyped_storage()[0:4].data_ptr() == x.untyped_storage().data_ptr()


def test_view_dtype_keyword():
    x = minigrad.tensor([1.0, 2.0])
    assert x.view(dtype=minigrad.int32).tolist() == x.view(minigrad.int32).tolist()
    with pytest.raises(TypeError, match="either a shape or dtype"):
        x.view(2, dtype=minigrad.int32)


def test_transform_getitem_to_index_gathers_under_vmap():
    """Within the mode, indexing with a vmapped 0-d tensor gathers (PyTorch's ``aten.index``)
    and its gradient scatters back; PyTorch gives the same (checked by hand: importing
    ``torch._dynamo`` for it here would cost seconds)."""
    table = minigrad.arange(12.0).reshape(3, 4).requires_grad_()
    with TransformGetItemToIndex():
        out = minigrad.vmap(lambda q: table[q, 2] * 2)(minigrad.tensor([0, 2, 2]))
        one = table[minigrad.tensor(1), 3]
    (out.sum() + one).backward()
    values = np.arange(12.0).reshape(3, 4)
    assert out.tolist() == [values[0, 2] * 2, values[2, 2] * 2, values[2, 2] * 2]
    assert one.item() == values[1, 3] and one.shape == ()
    expected = np.zeros((3, 4))
    expected[0, 2], expected[2, 2], expected[1, 3] = 2.0, 4.0, 1.0
    np.testing.assert_array_equal(table.grad.numpy(), expected)


def test_fsdp_names_and_refusals():
    from minigrad.distributed import fsdp
    from minigrad.distributed._composable.fsdp import fully_shard

    fields = {"param_dtype", "reduce_dtype", "output_dtype", "cast_forward_inputs"}  # PyTorch's
    assert {f.name for f in dataclasses.fields(fsdp.MixedPrecisionPolicy)} == fields
    assert [f.name for f in dataclasses.fields(fsdp.CPUOffloadPolicy)] == ["pin_memory"]
    assert fsdp.MixedPrecisionPolicy(param_dtype=minigrad.bfloat16).cast_forward_inputs
    with pytest.raises(NotImplementedError, match="list of modules"):  # (before any mesh)
        fully_shard([nn.Linear(2, 2)])
    with pytest.raises(RuntimeError, match="non-CPU accelerator"):  # PyTorch's, without device_id
        fsdp.FullyShardedDataParallel(nn.Linear(2, 2))
    assert not isinstance(nn.Linear(2, 2), fsdp.FSDPModule)


def test_dynamo_and_compiler_hints_leave_eager_code_alone():
    import minigrad._dynamo as dynamo

    def f(x):
        return x + 1

    assert dynamo.assume_constant_result(f) is f and f._dynamo_marked_constant
    assert dynamo.allow_in_graph(f) is f and minigrad.compiler.allow_in_graph([f]) == [f]
    assert minigrad.compiler.is_exporting() is False
    t = minigrad.ones(2)
    dynamo.mark_static_address(t)
    assert t._dynamo_static_input_type == "unguarded"
    with pytest.raises(TypeError, match="expects a tensor"):
        dynamo.mark_static_address([1.0])
    assert dynamo.eval_frame.OptimizedModule is dynamo.OptimizedModule


def test_module_dict_update_from_a_module_dict():
    target = nn.ModuleDict({"a": nn.ReLU()})
    target.update(nn.ModuleDict({"b": nn.Tanh(), "a": nn.Sigmoid()}))
    assert list(target.keys()) == ["a", "b"] and isinstance(target["a"], nn.Sigmoid)


def test_pytree_dict_helpers_as_pytorch():
    torch_pytree = pytest.importorskip("torch.utils._pytree")
    from minigrad.utils import _pytree

    d = {"b": 1, "a": 2}
    pairs, context = _pytree._dict_flatten_with_keys(d)
    theirs, their_context = torch_pytree._dict_flatten_with_keys(d)
    assert [(k.key, v) for k, v in pairs] == [(k.key, v) for k, v in theirs]
    assert context == their_context
    assert _pytree._dict_unflatten(*_pytree._dict_flatten(d)) == d


def test_cuda_stream_context_and_graph_refusals():
    with minigrad.cuda.stream(None) as entered:  # no stream: nothing changes
        assert entered is None
    assert isinstance(minigrad.cuda.stream(None), minigrad.cuda.StreamContext)
    with pytest.raises(NotImplementedError, match="CUDA graphs"):
        minigrad.cuda.CUDAGraph()
    with pytest.raises(NotImplementedError, match="CUDA graphs"):
        minigrad.cuda.graph(None)
