"""The small utilities PyTorch programs call: dtype rules (can_cast, promote_types,
result_type), seeding and determinism, print options, ``testing.assert_close``, memory-layout
queries and the in-place random fills — each against PyTorch where it is installed."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_dtype_rules_match_torch():
    for a in NAMES:
        for b in NAMES:
            ours_a, ours_b = getattr(minigrad, a), getattr(minigrad, b)
            theirs_a, theirs_b = getattr(torch, a), getattr(torch, b)
            assert minigrad.can_cast(ours_a, ours_b) == torch.can_cast(theirs_a, theirs_b)
            assert (
                str(minigrad.promote_types(ours_a, ours_b)).split(".")[1]
                == str(torch.promote_types(theirs_a, theirs_b)).split(".")[1]
            )
    assert minigrad.result_type(minigrad.tensor([1, 2]), 2.5) is minigrad.float32


def test_manual_seed_returns_the_default_generator_and_generator_methods():
    g = minigrad.manual_seed(7)  # PyTorch returns torch.default_generator
    assert type(g).__name__ == type(torch.manual_seed(7)).__name__ == "Generator"
    assert g.initial_seed() == torch.default_generator.initial_seed() == 7
    draw = minigrad.rand(3)
    np.testing.assert_array_equal(
        minigrad.rand(3, generator=g.manual_seed(7)).numpy(), draw.numpy()
    )
    mine, theirs = minigrad.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    assert mine.initial_seed() == theirs.initial_seed() == 11
    fresh = mine.seed()
    assert mine.initial_seed() == fresh and fresh >= 0
    assert isinstance(minigrad.default_generator, minigrad.Generator)
    assert isinstance(torch.default_generator, torch.Generator)
    assert str(minigrad.Generator(device="cpu").device) == str(torch.Generator().device) == "cpu"


def test_seed_and_deterministic_mode():
    first = minigrad.seed()
    assert minigrad.initial_seed() == first
    draw = minigrad.rand(3)
    minigrad.manual_seed(first)
    np.testing.assert_array_equal(minigrad.rand(3).numpy(), draw.numpy())
    assert not minigrad.are_deterministic_algorithms_enabled()
    minigrad.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert minigrad.are_deterministic_algorithms_enabled()
        assert minigrad.is_deterministic_algorithms_warn_only_enabled()
    finally:
        minigrad.use_deterministic_algorithms(False)
    with pytest.raises(TypeError, match="must be bool"):
        minigrad.use_deterministic_algorithms(1)


@pytest.mark.parametrize(
    "options",
    [dict(precision=2), dict(sci_mode=True), dict(profile="short"), dict(threshold=5, edgeitems=1)],
)
def test_print_options_match_torch(options):
    values = np.linspace(-3.14159, 2.71828, 12).reshape(3, 4)
    try:
        minigrad.set_printoptions(**options)
        torch.set_printoptions(**options)
        expected = repr(torch.tensor(values)).replace("torch.", "minigrad.")
        assert repr(minigrad.tensor(values)) == expected
    finally:
        minigrad.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_assert_close_as_torch():
    close = minigrad.tensor([1.0, 2.0, 3.0])
    minigrad.testing.assert_close(close, close + 1e-7)
    minigrad.testing.assert_close({"a": [close]}, {"a": [close.clone()]})
    cases = [
        (close, minigrad.tensor([1.0, 2.5, 3.0])),
        (close, close[:2]),
        (close, close.double()),
    ]
    for actual, expected in cases:
        with pytest.raises(AssertionError) as ours:
            minigrad.testing.assert_close(actual, expected)
        t_actual, t_expected = torch.tensor(actual.numpy()), torch.tensor(expected.numpy())
        with pytest.raises(AssertionError) as theirs:
            torch.testing.assert_close(t_actual, t_expected)
        assert (
            str(ours.value).splitlines()[0].split(":")[0]
            == str(theirs.value).splitlines()[0].split(":")[0]
        )
    minigrad.testing.assert_close(close, minigrad.tensor([1.0, 2.5, 3.0]), rtol=0, atol=0.6)
    with pytest.raises(ValueError, match="rtol"):
        minigrad.testing.assert_close(close, close, atol=1.0)


def test_memory_layout_queries_match_torch():
    data = np.arange(24.0).reshape(2, 3, 4)
    for make in (lambda m: m.tensor(data), lambda m: m.tensor(data).permute(2, 0, 1)):
        ours, theirs = make(minigrad), make(torch)
        assert ours.stride() == theirs.stride() and ours.stride(1) == theirs.stride(1)
        assert ours.nbytes == theirs.nbytes and ours.itemsize == theirs.itemsize
    base = minigrad.zeros(4)
    assert base.view(2, 2).data_ptr() == base.data_ptr() != base.clone().data_ptr()
    assert base.pin_memory() is base and not base.is_pinned() and base.share_memory_() is base
    for cast, dtype in (("byte", "uint8"), ("char", "int8"), ("short", "int16")):
        assert getattr(base, cast)().dtype is getattr(minigrad, dtype)


def test_random_fills_follow_their_distributions():
    minigrad.manual_seed(0)
    x = minigrad.empty(40000, dtype=minigrad.float64)
    assert abs(x.bernoulli_(0.3).mean().item() - 0.3) < 0.01
    assert abs(x.exponential_(2.0).mean().item() - 0.5) < 0.01
    assert abs(x.geometric_(0.25).mean().item() - 4.0) < 0.1 and x.min().item() == 1
    assert abs(x.log_normal_(0.0, 0.5).mean().item() - np.exp(0.125)) < 0.02
    assert abs(x.cauchy_(1.0, 0.5).median().item() - 1.0) < 0.02
    draws = x.random_(3, 7)
    assert draws.min().item() == 3 and draws.max().item() == 6
    assert minigrad.empty(100, dtype=minigrad.uint8).random_().max().item() > 200


def test_fill_diagonal_matches_torch():
    for shape, wrap in (((3, 4), False), ((7, 3), True), ((7, 3), False), ((3, 3, 3), False)):
        ours = minigrad.zeros(*shape).fill_diagonal_(5.0, wrap)
        theirs = torch.zeros(*shape).fill_diagonal_(5.0, wrap)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="fill_diagonal_"):
        minigrad.zeros(2, 3, 4).fill_diagonal_(1.0)


def test_asarray_shares_or_copies_as_asked():
    array = np.arange(3.0)
    shared = minigrad.asarray(array)
    array[0] = 7.0
    assert shared[0].item() == 7.0
    assert minigrad.asarray(array, copy=True).data_ptr() != shared.data_ptr()
    with pytest.raises(ValueError, match="copy"):
        minigrad.asarray(array, dtype=minigrad.float32, copy=False)


def test_jit_annotations_run_eagerly():
    from minigrad import jit, nn

    class Block(nn.Module):
        scale: jit.Final[float] = 2.0

        @jit.ignore
        def helper(self, x):
            return x * self.scale

        @jit.unused
        def unused(self, x):
            return x

        def forward(self, x):
            if not jit.is_scripting() and not jit.is_tracing():
                x = jit.annotate(minigrad.Tensor, self.helper(x))
            return x

    block = Block()
    assert block(minigrad.ones(2)).tolist() == [2.0, 2.0]
    assert jit.ignore(drop=True)(len) is len
    scripted, traced = jit.script(block), jit.trace(block, minigrad.ones(2))
    assert isinstance(scripted, (jit.RecursiveScriptModule, Block))
    assert isinstance(traced, (jit.TopLevelTracedModule, Block))
    assert scripted(minigrad.ones(2)).tolist() == [2.0, 2.0]


def test_jit_script_and_fork_run_eagerly_as_torch_without_torchscript():
    """PyTorch with ``PYTORCH_JIT=0`` returns scripted and traced objects unchanged."""
    from minigrad import jit

    @jit.script
    def bias_gelu(x, bias):
        y = x + bias
        return y * 0.5 * (1.0 + minigrad.tanh(0.79788456 * y * (1 + 0.044715 * y * y)))

    x = minigrad.randn(3, 4, requires_grad=True)
    out = bias_gelu(x, minigrad.ones(4))
    out.sum().backward()
    assert x.grad is not None and out.shape == (3, 4)
    future = jit.fork(bias_gelu, x, minigrad.zeros(4))
    assert future.done() and jit.wait(future).tolist() == bias_gelu(x, minigrad.zeros(4)).tolist()


def test_out_keyword_as_torch():
    for lib in (minigrad, torch):
        a, b = lib.ones(2, 3), lib.full((2, 3), 2.0)
        out = lib.empty(2, 3)
        assert lib.mul(a, b, out=out) is out and out.tolist() == [[2.0] * 3] * 2
        assert lib.multiply(a, b, out=out) is out
        product = lib.empty(2, 2)
        lib.matmul(a, b.T, out=product)
        assert product.tolist() == [[6.0, 6.0], [6.0, 6.0]]
        values, indices = lib.empty(2), lib.empty(2, dtype=lib.int64)
        result = lib.max(lib.tensor([[1.0, 5.0], [7.0, 2.0]]), 1, out=(values, indices))
        assert result.values is values and indices.tolist() == [1, 0]
        wrong_shape = lib.empty(5)
        with pytest.warns(UserWarning, match="resized"):
            lib.add(a, b, out=wrong_shape)
        assert tuple(wrong_shape.shape) == (2, 3)
        with pytest.raises(RuntimeError, match="can't be cast"):
            lib.add(a, b, out=lib.empty(2, 3, dtype=lib.int64))
        with pytest.raises(RuntimeError, match="automatic differentiation"):
            lib.mul(a.requires_grad_(), b, out=lib.empty(2, 3))
        zeros = lib.empty(0)
        lib.zeros(3, out=zeros)
        assert zeros.tolist() == [0.0, 0.0, 0.0]


def test_rng_state_roundtrips_and_fork_rng_as_in_pytorch(tmp_path):
    for lib in (minigrad, torch):
        state = lib.get_rng_state()
        assert state.dtype is lib.uint8 and state.dim() == 1
        first = lib.rand(3)
        lib.set_rng_state(state)
        assert lib.rand(3).tolist() == first.tolist()
        lib.set_rng_state(state)
        with lib.random.fork_rng():
            lib.rand(5)  # draws inside the block do not advance the generator outside it
        assert lib.rand(3).tolist() == first.tolist()
        assert lib.random.initial_seed() == lib.initial_seed()
    minigrad.save({"rng_state": minigrad.get_rng_state(), "epoch": 3}, tmp_path / "c.pt")
    expected = minigrad.rand(4)
    minigrad.set_rng_state(minigrad.load(tmp_path / "c.pt")["rng_state"])  # a resumed run
    assert minigrad.rand(4).tolist() == expected.tolist()
    assert minigrad.default_generator is minigrad.manual_seed(0)
    with pytest.raises(RuntimeError, match="not a CPU generator state"):
        minigrad.set_rng_state(minigrad.zeros(7, dtype=minigrad.uint8))
    with pytest.raises(TypeError, match="uint8"):
        minigrad.set_rng_state(minigrad.zeros(3))
