"""Leftovers of the sixteenth session, each checked against PyTorch 2.13: ``to("cpu:0")``
copies, exported ``module()`` argument errors, writes into expanded tensors, compile
fallbacks, nested-vmap indexing (and gather/scatter/index_select/embedding), PIL interpolation
constants, ElasticTransform."""

import builtins
import io
import threading

import pytest

import minigrad
from minigrad import nn

print_builtin = builtins.print


def test_to_indexed_cpu_copies_as_pytorch():
    """``"cpu:0"`` is not a CPU tensor's ``cpu`` device: ``to`` copies (``ToCopyBackward0``);
    ``to("cpu")`` and ``cpu()`` return the tensor itself."""
    t = minigrad.zeros(3, requires_grad=True)
    for device in ("cpu:0", minigrad.device("cpu", 0)):
        out = t.to(device)
        assert out is not t and out.device == minigrad.device("cpu")
        assert type(out.grad_fn).__name__ == "ToCopyBackward0"
    assert t.to("cpu") is t and t.cpu() is t and t.to(minigrad.device("cpu")) is t
    out = t.to("cpu:0")
    out.sum().backward()
    assert t.grad.tolist() == [1.0, 1.0, 1.0]
    layer = nn.Linear(2, 2)
    weight, pointer = layer.weight, layer.weight.data_ptr()
    layer.to("cpu")
    assert layer.weight.data_ptr() == pointer
    layer.to("cpu:0")  # the same Parameter, new storage, as PyTorch's
    assert layer.weight is weight and layer.weight.data_ptr() != pointer


class _AddOptional(nn.Module):
    def forward(self, x, y=None):
        return x + 1 if y is None else x + y


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, z: m(z, z), "exported with 1 positional inputs but got 2"),
        (lambda m, z: m(), "exported with 1 positional inputs but got 0"),
        (lambda m, z: m(z, w=z), r"Got the following keywords \['w'\] but expected \[\]"),
        (lambda m, z: m(x=z), r"Got the following keywords \['x'\] but expected \[\]"),
    ],
)
def test_exported_module_call_structure_raises_value_error(call, message):
    """PyTorch flattens an exported module's call against the exported inputs first: another
    number of positional inputs, or other keywords, raise its ValueError, not a TypeError."""
    z = minigrad.zeros(2, 3)
    module = minigrad.export.export(_AddOptional(), (z,)).module()
    with pytest.raises(ValueError, match=message):
        call(module, z)
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[1\] == 3"):
        module(minigrad.zeros(2, 4))
    assert module(z).tolist() == [[1.0] * 3] * 2


def test_exported_module_keywords_as_exported():
    """Exported with ``y`` by keyword, the module wants ``y`` by keyword (PyTorch's words)."""
    z = minigrad.ones(2, 3)
    module = minigrad.export.export(_AddOptional(), (z,), {"y": z}).module()
    assert module(z, y=z).tolist() == [[2.0] * 3] * 2
    with pytest.raises(ValueError, match=r"keywords \[\] but expected \['y'\]"):
        module(z, z)


def _expanded():
    return minigrad.zeros(3).expand(4, 3)


def test_index_writes_into_expanded_tensor_warn_and_write_as_pytorch():
    """PyTorch's deprecated index writes into an expanded tensor: a warning, then the write
    through the shared memory (the last write wins; accumulated copies all add)."""
    mask = minigrad.tensor([[True, False, False]] * 4)
    values = minigrad.tensor([1.0, 2.0, 3.0, 4.0])
    rows, zeros = minigrad.arange(4), minigrad.zeros(4, dtype=minigrad.int64)
    cases = [
        (lambda t: t.__setitem__(mask, values), "index_put_", [4.0, 0.0, 0.0]),
        (lambda t: t.index_put_((rows, zeros), values), "index_put_", [4.0, 0.0, 0.0]),
        (lambda t: t.index_put_((rows, zeros), values, True), "index_put_", [10.0, 0.0, 0.0]),
        (lambda t: t.index_fill_(1, minigrad.tensor([2]), 5.0), "index_fill_", [0.0, 0.0, 5.0]),
        (lambda t: t.masked_fill_(mask, 2.0), "masked_fill_", [2.0, 0.0, 0.0]),
    ]
    for write, op, row in cases:
        t = _expanded()
        with pytest.warns(UserWarning, match=f"Use of {op} on expanded tensors is deprecated"):
            write(t)
        assert t.tolist() == [row] * 4
    for write in (lambda t: t.add_(1), lambda t: t.copy_(minigrad.ones(4, 3)),
                  lambda t: t.__setitem__((slice(None), 0), 1.0)):  # fmt: skip
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            write(_expanded())
    t = minigrad.zeros(2, 3)  # not expanded: no warning, ordinary index_fill_
    assert t.index_fill_(1, minigrad.tensor([0]), 1.0).tolist() == [[1.0, 0.0, 0.0]] * 2

    def write(row):  # under vmap: a batch's rows have no memory layout to check
        return (
            row.clone()
            .index_put_((minigrad.tensor([1]),), row[0] + 1)
            .index_fill_(0, minigrad.tensor([2]), 7.0)
        )

    assert minigrad.vmap(write)(minigrad.ones(2, 3)).tolist() == [[1.0, 2.0, 7.0]] * 2


def test_print_from_another_thread_during_a_trace_does_not_end_the_capture():
    """``print`` is watched only in the thread that traces: another thread printing while a
    call is traced prints normally and leaves the trace replayable."""
    started, printed, buffer = threading.Event(), threading.Event(), io.StringIO()

    def other():
        started.wait(5)
        print("from another thread", file=buffer)
        printed.set()

    @minigrad.compile
    def double(x):
        started.set()
        printed.wait(5)  # the other thread prints while this call is traced
        return x * 2

    thread = threading.Thread(target=other)
    thread.start()
    for _ in range(4):
        out = double(minigrad.ones(3))
    thread.join()
    assert buffer.getvalue() == "from another thread\n"
    assert double.eager_reason is None and out.tolist() == [2.0, 2.0, 2.0]
    assert builtins.print is print_builtin


def _over_bhqkv(fn):
    """transformers' ``_vmap_expansion_sdpa``: ``fn`` vmapped over kv, q, head, batch."""
    for dims in [(None, None, None, 0), (None, None, 0, None), (None, 0, None, None),
                 (0, None, None, None)]:  # fmt: skip
        fn = minigrad.vmap(fn, in_dims=dims, out_dims=0)
    return fn


def test_nested_vmap_indexing_with_indices_of_different_levels():
    """transformers' mask functions (Gemma3's ``or_mask`` of causal and same-token-type,
    ``and_mask`` with a padding mask): indexing with indices batched at different vmap levels,
    as torch.func.vmap (values from torch 2.13)."""
    padding = minigrad.tensor([[True, True, False, True], [False, True, True, True]])
    token_type = minigrad.tensor([[0, 1, 1, 0], [1, 1, 0, 0]])

    def mask_fn(b, h, q, kv):
        same_type = token_type[b, q] == token_type[b, kv]
        return ((kv <= q) | same_type) & padding[b, kv]

    r2, r4 = minigrad.arange(2), minigrad.arange(4)
    out = _over_bhqkv(mask_fn)(r2, minigrad.arange(1), r4, r4)
    assert out.shape == (2, 1, 4, 4)
    assert out.int().flatten().tolist() == [
        1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1,
        0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1,
    ]  # fmt: skip
    x = minigrad.arange(60.0).reshape(3, 4, 5)
    inner = minigrad.vmap(lambda i, j: x[i, j, 1:3], in_dims=(None, 0))
    got = minigrad.vmap(inner, in_dims=(0, None))(minigrad.tensor([0, 2]), minigrad.tensor([1, 3]))
    assert got.tolist() == [[[6.0, 7.0], [16.0, 17.0]], [[46.0, 47.0], [56.0, 57.0]]]
    w = minigrad.arange(12.0).reshape(3, 4).requires_grad_()
    square = minigrad.vmap(lambda i, j: w[i, j] * w[i, j], in_dims=(None, 0))
    minigrad.vmap(square, in_dims=(0, None))(
        minigrad.tensor([0, 2, 2]), r2 * 2 + 1
    ).sum().backward()
    assert w.grad.tolist() == [[0.0, 2.0, 0.0, 6.0], [0.0] * 4, [0.0, 36.0, 0.0, 44.0]]


def test_nested_vmap_gather_scatter_index_select_embedding_as_torch():
    """gather, scatter/scatter_add, index_select and F.embedding with the input batched at one
    vmap level and the indices at another (either order) equal torch.func.vmap; gradients too."""
    torch = pytest.importorskip("torch")
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4)).astype(np.float32)
    idx = rng.integers(0, 4, size=(2, 6))
    src = rng.normal(size=(5, 6)).astype(np.float32)
    weights = rng.normal(size=(3, 7, 3)).astype(np.float32)
    tokens = rng.integers(0, 7, size=(3, 4))

    def cases(lib):
        vmap, emb = lib.func.vmap, lib.nn.functional.embedding
        t = lib.tensor
        spread = lambda i: i.reshape(1, 6).expand(5, 6)  # noqa: E731
        return [
            vmap(lambda a: vmap(lambda i: a.gather(1, spread(i)))(t(idx)))(t(x)),
            vmap(lambda a: vmap(lambda i: a.index_select(1, i))(t(idx[:, :3])))(t(x)),
            vmap(lambda i: vmap(lambda a: a.index_select(1, i))(t(x)))(t(idx[:, :3])),
            vmap(lambda a: vmap(lambda i: a.scatter_add(1, spread(i), t(src)))(t(idx)))(t(x)),
            vmap(lambda a: vmap(lambda i: a.scatter(1, spread(i), t(src)))(t(idx)))(t(x)),
            vmap(lambda w: vmap(lambda i: emb(i, w))(t(tokens)))(t(weights)),
            vmap(lambda i: vmap(lambda w: emb(i, w))(t(weights)))(t(tokens)),
        ]

    for ours, theirs in zip(cases(minigrad), cases(torch)):
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    grads = []
    for lib in (minigrad, torch):
        a, i = lib.tensor(x, requires_grad=True), lib.tensor(idx[:, :3])
        vmap = lib.func.vmap
        out = vmap(lambda r, i=i, vmap=vmap: vmap(lambda j: r.index_select(1, j))(i))(a)
        (out**2).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_pil_integer_interpolation_constants_as_torchvision():
    """torchvision 0.28 maps Pillow's integer constants (``Image.BILINEAR`` = 2, ...) to
    InterpolationMode in v1 and v2 transforms and functionals, silently."""
    image_module = pytest.importorskip("PIL.Image")
    from minigrad.vision.transforms import InterpolationMode as Mode
    from minigrad.vision.transforms import functional as F
    from minigrad.vision.transforms import v2

    transforms = minigrad.vision.transforms
    x = minigrad.rand(3, 6, 6)
    assert transforms.Resize(3, interpolation=image_module.BICUBIC).interpolation is Mode.BICUBIC
    assert transforms.RandomRotation(5, interpolation=2).interpolation is Mode.BILINEAR
    assert transforms.RandomResizedCrop(3, interpolation=0).interpolation is Mode.NEAREST
    assert v2.Resize(3, interpolation=image_module.LANCZOS).interpolation is Mode.LANCZOS
    expected = F.resize(x, [3, 3], Mode.BILINEAR)
    for got in (F.resize(x, [3, 3], image_module.BILINEAR), v2.functional.resize(x, [3, 3], 2)):
        assert got.equal(expected)
    assert F.rotate(x, 10.0, interpolation=2).equal(F.rotate(x, 10.0, Mode.BILINEAR))
    with pytest.raises(KeyError):  # (torchvision's error for another integer)
        F.resize(x, [3, 3], 7)


def test_elastic_transform_v1_as_torchvision():
    """v1 ``ElasticTransform``: torchvision 0.28's displacement field for the same seed, its
    output (values recorded from torchvision), repr, argument errors and the warning for an
    integer interpolation in ``functional.elastic_transform``."""
    from minigrad.vision import transforms as T
    from minigrad.vision.transforms import functional as F

    minigrad.manual_seed(0)
    img = (minigrad.rand(3, 29, 31) * 255).to(minigrad.uint8)
    t = T.ElasticTransform(alpha=20.0, sigma=(3.0, 2.0), fill=7)
    assert repr(t) == (
        "ElasticTransform(alpha=[20.0, 20.0], sigma=(3.0, 2.0), "
        "interpolation=InterpolationMode.BILINEAR, fill=[7.0])"
    )
    minigrad.manual_seed(1)
    d = t.get_params(t.alpha, t.sigma, [29, 31])
    assert d.shape == (1, 29, 31, 2)
    assert abs(d.sum().item() - 3.82072) < 1e-4 and abs(d.abs().max().item() - 0.144) < 1e-4
    minigrad.manual_seed(1)
    out = t(img)
    assert out.flatten()[:12].tolist() == [7, 7, 7, 7, 12, 74, 120, 172, 151, 81, 112, 8]
    assert out.sum().item() == 316491
    with pytest.warns(UserWarning, match="should be of type InterpolationMode instead of int"):
        assert F.elastic_transform(img, d, 2).equal(F.elastic_transform(img, d))
    with pytest.raises(ValueError, match=r"displacement shape should be .*1, 29, 31, 2"):
        F.elastic_transform(img, d[:, :3])
    with pytest.raises(TypeError, match="alpha should be float or a sequence of floats"):
        T.ElasticTransform(alpha=50)


def test_elastic_transform_v2_as_torchvision():
    """v2 ``ElasticTransform`` over an image, a mask and boxes together (values recorded from
    torchvision 0.28 with the same seeds): one field for all, masks nearest, boxes moved by
    the approximate inverse grid."""
    from minigrad.vision import tv_tensors
    from minigrad.vision.transforms import v2

    minigrad.manual_seed(0)
    img = tv_tensors.Image((minigrad.rand(3, 29, 31) * 255).to(minigrad.uint8))
    mask = tv_tensors.Mask((minigrad.rand(29, 31) * 4).to(minigrad.int64))
    boxes = tv_tensors.BoundingBoxes(
        minigrad.tensor([[2.0, 3.0, 20.0, 25.0], [10.5, 1.2, 30.0, 28.0]]),
        format="XYXY", canvas_size=(29, 31),
    )  # fmt: skip
    t = v2.ElasticTransform(alpha=25.0, sigma=(3, 2.5),
                            fill={tv_tensors.Image: 9, tv_tensors.Mask: 255})  # fmt: skip
    minigrad.manual_seed(5)
    out_img, out_mask, out_boxes = t(img, mask, boxes)
    assert type(out_img) is tv_tensors.Image and out_img.sum().item() == 297577
    assert out_img.flatten()[:8].tolist() == [9, 9, 9, 8, 10, 10, 9, 9]
    assert type(out_mask) is tv_tensors.Mask and out_mask.sum().item() == 27661
    expected = [2.4471, 3.0689, 20.701, 25.2704, 9.9991, 2.7008, 31.0, 27.5258]
    assert out_boxes.flatten().tolist() == pytest.approx(expected, abs=1e-4)
    with pytest.raises(ValueError, match="If sigma is a sequence its length should be 1 or 2"):
        v2.ElasticTransform(sigma=[1, 2, 3])


class _FakeLib:
    """A BLAS library as threadpoolctl's controller shows it."""

    def __init__(self, filepath, num_threads):
        self.filepath, self.num_threads = filepath, num_threads

    def set_num_threads(self, n):
        self.num_threads = n


class _FakeController:
    def __init__(self, libs):
        self.lib_controllers = libs

    def select(self, user_api):
        return self

    def info(self):
        return [{"filepath": lib.filepath, "num_threads": lib.num_threads}
                for lib in self.lib_controllers]  # fmt: skip


def test_a_blas_loaded_later_gets_minigrads_thread_count_when_threads_are_asked_about(
    monkeypatch,
):
    """SciPy's own OpenBLAS, imported after minigrad, starts at its library default;
    ``get_num_threads`` first gives it the count minigrad set (here 1), as if it had been
    there then; where the count was left to a ``*_NUM_THREADS`` variable, nothing changes."""
    from minigrad import _runtime

    numpy_blas = _FakeLib("/site-packages/numpy.libs/libscipy_openblas64_.so", 1)
    scipy_blas = _FakeLib("/site-packages/scipy.libs/libscipy_openblas.so", 2)
    monkeypatch.setattr(_runtime, "_applied_count", 1)
    monkeypatch.setattr(_runtime, "_applied_files", {numpy_blas.filepath})
    monkeypatch.setattr(_runtime, "_controller", lambda: _FakeController([numpy_blas, scipy_blas]))
    assert minigrad.get_num_threads() == 1 and scipy_blas.num_threads == 1
    scipy_blas.num_threads = 2  # (known now: not set again)
    assert minigrad.get_num_threads() == 1 and scipy_blas.num_threads == 2
    monkeypatch.setattr(_runtime, "_applied_count", None)  # left to OPENBLAS_NUM_THREADS & co.
    monkeypatch.setattr(_runtime, "_applied_files", {numpy_blas.filepath})
    assert minigrad.get_num_threads() == 1 and scipy_blas.num_threads == 2


class _PackedGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4, batch_first=True)

    def forward(self, x, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                   enforce_sorted=False)  # fmt: skip
        out, h = self.rnn(packed)
        padded, lens = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        return padded.sum() + h.sum(), lens


def test_pack_padded_sequence_inside_a_compiled_model_replays():
    """The index tensors of packing (from lengths: guarded host reads) are trace constants,
    so a compiled model that packs replays instead of falling back, and equals eager."""
    minigrad.manual_seed(0)
    eager = _PackedGRU()
    model = _PackedGRU()
    model.load_state_dict(eager.state_dict())
    compiled = minigrad.compile(model)
    for lengths in ([5, 3], [5, 3], [5, 3], [2, 4]):
        x, lengths = minigrad.randn(2, 5, 3), minigrad.tensor(lengths)
        (want, want_lengths), (got, got_lengths) = eager(x, lengths), compiled(x, lengths)
        want.backward()
        got.backward()
        assert abs(want.item() - got.item()) < 1e-5 and want_lengths.equal(got_lengths)
        assert (eager.rnn.weight_hh_l0.grad - model.rnn.weight_hh_l0.grad).abs().max() < 1e-5
    assert compiled.eager_reason is None and compiled._compiled._replayed
