"""Leftovers of the seventeenth session, each checked against PyTorch 2.13: error wording
(``bincount``, ``index_add_``, ``Tensor.unfold``), SDPA's CPU backend refusals, fastai's
``TensorBase`` pickling and PyTorch-made pickles under ``as_torch``, strides of size-1 dims and
of mixed-layout pointwise ops and reductions, compiled checkpointed dropout."""

import collections
import pickle
import re
import warnings

import pytest

import minigrad


def _raises_as_torch(torch, call):
    """``call(lib)`` raises the same exception type with PyTorch's words in minigrad."""
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value), match=re.escape(str(want.value))):
        call(minigrad)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.bincount(t.tensor([-1, 2]), minlength=-1),
        lambda t: t.zeros(3).index_add_(0, t.tensor([3]), t.ones(1)),
        lambda t: t.zeros(3).index_add_(0, t.tensor([-1]), t.ones(1)),
        lambda t: t.zeros(3, 2).index_add_(0, t.tensor([3]), t.ones(1, 2)),
        lambda t: t.zeros(3, 2).index_add_(-1, t.tensor([2]), t.ones(3, 1)),
        lambda t: t.zeros(3, 2).index_add_(0, t.tensor([3]), t.ones(1, 2), alpha=2),
        lambda t: t.zeros(3, 2).index_add_(0, t.tensor([3], dtype=t.int32), t.ones(1, 2)),
        lambda t: t.zeros(2, 3, 4).index_add(1, t.tensor([3]), t.ones(2, 1, 4)),
        lambda t: t.arange(6.0).unfold(0, 7, 1),
        lambda t: t.arange(6.0).unfold(0, 2, 0),
        lambda t: t.arange(6.0).unfold(0, -1, 1),
        lambda t: t.arange(6.0).unfold(-2, 2, 1),
        lambda t: t.tensor(5.0).unfold(0, 2, 1),
    ],
)
def test_error_words_as_pytorch(call):
    """PyTorch's CPU ``index_add_`` words an index out of range two ways: its scatter_add path
    (first or last dim of a 2-D-or-more input, int64 index, alpha 1) names the index."""
    _raises_as_torch(pytest.importorskip("torch"), call)


def _sdpa_outcome(lib, backends, shapes, **kwargs):
    """(error words or None, warnings' first lines) of SDPA under ``sdpa_kernel(backends)``."""
    attention = lib.nn.attention
    gen = lib.Generator().manual_seed(0)
    q, k, v = (lib.randn(*s, generator=gen) for s in shapes)
    if kwargs.pop("transpose", False):
        q = q.transpose(-1, -2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            with attention.sdpa_kernel([getattr(attention.SDPBackend, b) for b in backends]):
                lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
            error = None
        except (RuntimeError, IndexError) as e:
            error = (type(e).__name__, str(e))
    said = [str(w.message).split(" (Triggered internally")[0] for w in seen]
    return error, [w for w in said if "kernel" in w or "fused" in w or "Flash" in w or "mask" in w]


QKV4, QKV3 = [(2, 2, 3, 4)] * 3, [(2, 3, 4)] * 3


@pytest.mark.parametrize(
    "backends,shapes,kwargs",
    [
        (["FLASH_ATTENTION"], QKV4, {}),
        (["FLASH_ATTENTION"], QKV3, {}),
        (["FLASH_ATTENTION", "EFFICIENT_ATTENTION"], QKV3, {}),
        (["FLASH_ATTENTION"], QKV4, dict(dropout_p=0.3)),
        (["FLASH_ATTENTION"], [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 2)], {}),
        (["FLASH_ATTENTION"], [(2, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)], {}),
        (["FLASH_ATTENTION"], [(2, 2, 3, 4), (2, 1, 5, 4), (2, 1, 5, 4)], {}),
        (["FLASH_ATTENTION"], [(2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)], dict(enable_gqa=True)),
        (["FLASH_ATTENTION"], [(2, 2, 4, 3), (2, 2, 3, 4), (2, 2, 3, 4)], dict(transpose=True)),
        (["FLASH_ATTENTION"], QKV4, dict(is_causal=True)),
        (["FLASH_ATTENTION", "MATH"], QKV3, dict(dropout_p=0.3)),
        (["EFFICIENT_ATTENTION"], QKV4, {}),
        (["CUDNN_ATTENTION", "EFFICIENT_ATTENTION"], QKV3, {}),
        (["EFFICIENT_ATTENTION"], [(2, 2, 0, 4)] * 3, {}),
        (["FLASH_ATTENTION"], [(2, 3, 0)] * 3, {}),
    ],
)
def test_sdpa_backend_refusals_as_pytorch_cpu(backends, shapes, kwargs):
    """PyTorch's CPU build has a flash kernel and the math one: FLASH alone refuses what its
    flash kernel does not take (after two UserWarnings), EFFICIENT or CUDNN alone nothing runs."""
    torch = pytest.importorskip("torch")
    want = _sdpa_outcome(torch, backends, shapes, **dict(kwargs))
    assert _sdpa_outcome(minigrad, backends, shapes, **kwargs) == want


@pytest.mark.parametrize("mask_shape", [(3, 5), (2, 1, 3, 5), (1, 3, 5), (2, 2, 2, 3, 5), (5,)])
def test_sdpa_flash_mask_shapes_as_pytorch_cpu(mask_shape):
    """PyTorch's CPU flash kernel takes 2-D and 4-D masks; a 1-D one on 4-D inputs is its
    IndexError (it reads the mask's ``size(-2)``), with the math kernel enabled too."""
    torch = pytest.importorskip("torch")
    choices = [["FLASH_ATTENTION"]]
    if len(mask_shape) < 5:  # (a 5-D mask on the math kernel: its broadcast check's words differ)
        choices.append(["FLASH_ATTENTION", "MATH"])
    for backends in choices:
        outcomes = []
        for lib in (torch, minigrad):
            mask = lib.ones(*mask_shape, dtype=lib.bool)
            outcomes.append(
                _sdpa_outcome(
                    lib, backends, [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)], attn_mask=mask
                )
            )
        assert outcomes[1] == outcomes[0]


def _rebuild_from_type(func, cls, args, state):
    """fastai's ``_rebuild_from_type``: the tensor rebuilt by ``func``, as ``cls``."""
    out = func(*args).as_subclass(cls)
    out.__dict__ = state
    return out


class TensorBase(minigrad.Tensor):
    """fastai's ``TensorBase`` (fastai/torch_core.py), as far as pickling goes: a ``__new__``
    taking keywords (set as attributes) and a ``__reduce_ex__`` through ``torch._utils``."""

    def __new__(cls, x, **kwargs):
        res = x if isinstance(x, minigrad.Tensor) else minigrad.as_tensor(x)
        res = res.as_subclass(cls)
        for k, v in kwargs.items():
            setattr(res, k, v)
        return res

    def __reduce_ex__(self, proto):
        minigrad.utils.hooks.warn_if_has_hooks(self)
        args = (self.storage(), self.storage_offset(), tuple(self.size()), self.stride())
        args += (self.requires_grad, collections.OrderedDict())
        return (
            _rebuild_from_type,
            (minigrad._utils._rebuild_tensor_v2, type(self), args, self.__dict__),
        )


def test_fastai_tensorbase_pickles():
    """fastai's TensorBase round-trips through pickle: its storage, offset, size and stride (a
    transposed view stays one), requires_grad and attributes; a hook is warned about."""
    t = TensorBase(minigrad.arange(6.0).reshape(2, 3).t(), img_size=(2, 3))
    out = pickle.loads(pickle.dumps(t))
    assert type(out) is TensorBase and out.img_size == (2, 3)
    assert out.tolist() == t.tolist() and out.stride() == (1, 3)
    leaf = TensorBase(minigrad.ones(2, requires_grad=True))
    leaf.register_hook(lambda g: g)
    with pytest.warns(UserWarning, match="backward hook .* will not be serialized"):
        back = pickle.loads(pickle.dumps(leaf))
    assert back.requires_grad and type(back.grad_fn).__name__ == "AliasBackward0"  # as_subclass
    with pytest.raises(TypeError, match="unexpected keyword argument 'img_size'"):
        minigrad.Tensor([1.0], img_size=1)


def test_pytorch_pickle_loads_under_as_torch():
    """A ``pickle.dumps`` of PyTorch tensors (a view, a Parameter, a transposed int tensor)
    loads under ``minigrad.as_torch``: ``torch._utils._rebuild_tensor_v2`` over
    ``torch.storage._load_from_bytes``."""
    torch = pytest.importorskip("torch")
    made = {
        "view": torch.arange(6.0)[2:4],
        "param": torch.nn.Parameter(torch.ones(2, 2)),
        "ints": torch.arange(4).reshape(2, 2).t(),
    }
    data = pickle.dumps(made)
    from minigrad import as_torch

    with as_torch.imports():
        got = pickle.loads(data)
    for key, want in made.items():
        assert got[key].tolist() == want.tolist() and got[key].stride() == want.stride()
        assert got[key].requires_grad == want.requires_grad
    assert type(got["param"]) is minigrad.nn.Parameter and got["ints"].dtype is minigrad.int64


def _layouts(lib, shape):
    """``(stride, is_contiguous, is_contiguous(channels_last))`` of each way of laying a tensor
    of ``shape`` out channels-last (or of a result made from one)."""
    cl = lib.channels_last
    x = lib.zeros(shape)
    made = [
        x.to(memory_format=cl),
        x.contiguous(memory_format=cl),
        lib.empty_like(x, memory_format=cl),
        x.clone(memory_format=cl),
        x.to(lib.float64, memory_format=cl),
        x.to(memory_format=cl).exp(),
        x.to(memory_format=cl)[:, :1].clone(),
        x.to(memory_format=cl)[:, :, ::2].contiguous(),
        x[:, :1, :1].expand(shape[0], 3, 1, shape[3]),
        x.permute(0, 2, 3, 1),
        x.unsqueeze(2),
        x[:, :1].expand(*shape),
    ]
    aliased = [x.to(memory_format=cl) is x, made[0].to(memory_format=cl) is made[0]]
    return aliased, [
        (t.stride(), t.is_contiguous(), t.is_contiguous(memory_format=cl))
        for t in made
        if t.ndim == 4
    ]


@pytest.mark.parametrize(
    "shape", [(2, 3, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (1, 3, 4, 5), (1, 1, 1, 1), (2, 1, 1, 5)]
)
def test_size_one_dim_strides_as_pytorch(shape):
    """Channels-last tensors with dims of size 1 get PyTorch's strides (each dim the product of
    the faster dims' sizes); ``to(memory_format=...)`` copies unless PyTorch's
    ``suggest_memory_format`` already reads the tensor so; ``preserve_format`` follows it."""
    torch = pytest.importorskip("torch")
    assert _layouts(minigrad, shape) == _layouts(torch, shape)


def _pointwise_layouts(lib):
    """Strides of pointwise results whose inputs of one shape are laid out differently."""
    cl = lib.channels_last
    x = lib.zeros(2, 3, 4, 5)
    y = x.to(memory_format=cl)
    t = lib.zeros(3, 4).t()
    made = [y + x, x + y, y * x, y - x, x / y, y + y, y + 1.0, y + lib.zeros(3, 1, 1)]
    made += [lib.where(y > 0, y, x), lib.where(x > 0, y, x), t + lib.zeros(4, 3), t.exp()]
    made += [lib.zeros(1, 3, 4, 5).to(memory_format=cl) + lib.zeros(1, 3, 4, 5)]
    return [(r.stride(), r.is_contiguous()) for r in made]


def test_pointwise_result_layout_as_tensor_iterator():
    """A channels-last plus a row-major tensor (or a transposed plus a row-major one) gives the
    first input's layout, as PyTorch's TensorIterator does (NumPy alone writes row-major)."""
    torch = pytest.importorskip("torch")
    assert _pointwise_layouts(minigrad) == _pointwise_layouts(torch)


class _CheckpointedDropout(minigrad.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = minigrad.nn.Linear(4, 4), minigrad.nn.Linear(4, 2)
        self.drop = minigrad.nn.Dropout(0.5)

    def part(self, x):
        return self.drop(self.a(x).relu())

    def forward(self, x):
        out = minigrad.utils.checkpoint.checkpoint(self.part, x, use_reentrant=False)
        return self.b(out) + self.drop(x).sum()


def test_compiled_checkpointed_dropout_replays_eager_masks():
    """Dropout inside a checkpointed part of a compiled model: the backward's recompute sets the
    generator's state from the trace before it draws, so the whole step replays (no eager
    fallback) with eager's masks, gradients and generator state afterwards."""

    def run(model):
        minigrad.manual_seed(1)
        log = []
        for _ in range(3):
            model(minigrad.randn(3, 4)).sum().backward()
            log += [model.a.weight.grad.clone(), minigrad.rand(1)]
            model.zero_grad()
        return log

    minigrad.manual_seed(0)
    model = _CheckpointedDropout()
    eager = run(model)
    compiled = minigrad.compile(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        replayed = run(compiled)
    assert compiled.eager_reason is None and compiled._compiled._replayed
    for a, b in zip(eager, replayed):
        assert a.tolist() == b.tolist()


def _reduction_layouts(lib):
    y, t = lib.zeros(2, 3, 4, 5).to(memory_format=lib.channels_last), lib.zeros(3, 4).t()
    made = [y.sum(2, keepdim=True), y.sum(2), y.amax(1, keepdim=True), y.var(2, keepdim=True)]
    made += [y.prod(2, keepdim=True), y.norm(dim=2, keepdim=True), y.logsumexp(2), y.cumsum(1)]
    made += [t.sum(0, keepdim=True), y.mean((2, 3), keepdim=True)]
    return [(r.stride(), r.is_contiguous()) for r in made]


def test_reduction_results_row_major_as_pytorch():
    """Reductions and scans of a channels-last or transposed tensor are row-major with
    PyTorch's strides (NumPy's follow the input: ``y.sum(2).view(-1)`` would fail)."""
    torch = pytest.importorskip("torch")
    assert _reduction_layouts(minigrad) == _reduction_layouts(torch)
    y = minigrad.zeros(2, 3, 4, 5).to(memory_format=minigrad.channels_last)
    assert y.sum(2).view(-1).shape == (30,)
