"""Regressions for the minigrad bugs the twenty-second round of programs (helper e) found, each
checked against PyTorch's behaviour."""

import pytest

import minigrad
import minigrad.nn.functional as F


def test_batch_norm_eps_checked_as_pytorchs():
    """F.batch_norm refuses eps <= 0 in training and eps < 0 in evaluation (NFNet's scaled
    weight standardization passes eps through it); it computed with them. The batch-size
    check comes first; torch.batch_norm (ATen's) takes any eps."""
    x = minigrad.randn(4, 3)
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, but"):
        F.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive during training, but got -0.1"):
        F.batch_norm(x, minigrad.zeros(3), minigrad.ones(3), training=True, eps=-0.1)
    with pytest.raises(ValueError, match="batch_norm eps must be non-negative, but got -1.0"):
        F.batch_norm(x, minigrad.zeros(3), minigrad.ones(3), eps=-1.0)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(minigrad.randn(1, 3), None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(minigrad.randn(0, 3), None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        minigrad.nn.BatchNorm1d(3, eps=0.0)(x)
    evaluated = F.batch_norm(x, minigrad.zeros(3), minigrad.ones(3), eps=0.0)
    assert minigrad.equal(evaluated, x)  # eval with eps = 0 is allowed
    out = minigrad.batch_norm(x, None, None, None, None, True, 0.1, 0.0, False)
    assert out.shape == (4, 3) and out.var(0, unbiased=False).sub(1).abs().max() < 1e-5


def test_adafactor_scalar_parameter_and_foreach():
    """A 0-d parameter (a learned temperature) crashed Adafactor's update (NumPy's maximum of
    0-d arrays is a scalar, no ``out=``); with ``foreach=True`` and decay it matches PyTorch."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        lib.manual_seed(0)
        p, q = lib.nn.Parameter(lib.randn(3, 4, 5)), lib.nn.Parameter(lib.randn(()))
        opt = lib.optim.Adafactor([p, q], foreach=True, weight_decay=0.1, lr=0.05)
        for _ in range(3):
            opt.zero_grad()
            ((p**2).sum() + q.sin()).backward()
            opt.step()
        results.append([t.detach().numpy().copy() for t in (p, q, opt.state[q]["variance"])])
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape and abs(ours - theirs).max() < 1e-6


def test_adafactor_refuses_complex_and_checks_in_pytorchs_words():
    """PyTorch's Adafactor takes real parameters only (minigrad stepped a complex one through
    real views) and words its hyperparameter errors its own way, in its own order."""
    p = minigrad.nn.Parameter(minigrad.ones(2, 2, dtype=minigrad.complex64))
    opt = minigrad.optim.Adafactor([p])
    p.grad = minigrad.ones(2, 2, dtype=minigrad.complex64)
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        opt.step()
    real = [minigrad.nn.Parameter(minigrad.ones(2))]
    for kwargs, words in (
        ({"lr": -1.0, "d": 0.5}, "Learning rate should be >= 0 but is: -1.0"),
        ({"weight_decay": -1.0}, "weight_decay should be >= 0 but is: -1.0"),
        ({"eps": (None, -1.0), "d": 0.5}, "epsilon2 should be >= 0 but is: -1.0"),
        ({"d": 0.5, "weight_decay": -1.0}, "Clipping threshold d should be >= 1 but is: 0.5"),
    ):
        with pytest.raises(ValueError, match=words):
            minigrad.optim.Adafactor(real, **kwargs)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        minigrad.optim.Adafactor(real, lr=minigrad.tensor([0.1, 0.2]))
    opt = minigrad.optim.Adafactor(real, lr=minigrad.tensor(0.01))  # a one-element tensor lr
    with pytest.raises(ValueError, match="Learning rate should be >= 0 but is: -0.5 in param"):
        opt.add_param_group({"params": [minigrad.nn.Parameter(minigrad.ones(1))], "lr": -0.5})


def test_foreach_binary_refuses_a_tensor_of_dimensions_as_its_scalar():
    """``_foreach_add_(tensors, torch.tensor([1., 2.]))`` raised a broadcast error after changing
    the first tensor; PyTorch checks first: add/mul/div want a 0-d scalar tensor, the other
    binary ops have no tensor-scalar overload (a 0-d tensor is a number to them)."""
    tensors = [minigrad.zeros(2), minigrad.zeros(1)]
    with pytest.raises(RuntimeError, match="scalar tensor expected to be 0 dim but it has 1 dim"):
        minigrad._foreach_add_(tensors, minigrad.tensor([1.0, 2.0]))
    assert tensors[0].tolist() == [0.0, 0.0]  # nothing changed
    with pytest.raises(RuntimeError, match="it has 1 dimensions and 1 elements"):
        minigrad._foreach_mul(tensors, minigrad.tensor([2.0]))
    with pytest.raises(TypeError, match="_foreach_sub_.. received an invalid combination"):
        minigrad._foreach_sub_(tensors, minigrad.tensor([1.0, 2.0]))
    assert minigrad._foreach_maximum(tensors, minigrad.tensor(2.0))[1].tolist() == [2.0]
    assert minigrad._foreach_div(tensors, minigrad.tensor(2.0))[0].tolist() == [0.0, 0.0]


def test_like_factories_take_a_generator():
    """``torch.rand_like(x, generator=g)`` (and randn_like, randint_like) draw from ``g``, as
    PyTorch's do; minigrad had no ``generator`` keyword."""
    torch = pytest.importorskip("torch")
    draws = []
    for lib in (minigrad, torch):
        g = lib.Generator().manual_seed(3)
        x = lib.zeros(3, dtype=lib.float64)
        draws.append(
            [
                lib.rand_like(x, generator=g).tolist(),
                lib.randn_like(x, generator=g).tolist(),
                lib.randint_like(x, 10, generator=g).tolist(),
                lib.randint_like(x, 5, 9, generator=g, dtype=lib.int64).tolist(),
            ]
        )
    assert draws[0] == draws[1]


def test_generator_manual_seed_takes_integers_only():
    """``Generator.manual_seed(1.5)`` raises PyTorch's RuntimeError (minigrad truncated it);
    ``torch.manual_seed`` itself still takes what ``int()`` takes, as PyTorch's."""
    for seed, name in (
        (1.5, "float"),
        (True, "bool"),
        ("3", "str"),
        (minigrad.tensor(3), "Tensor"),
    ):
        with pytest.raises(RuntimeError, match=f"manual_seed expected a long, but got {name}$"):
            minigrad.Generator().manual_seed(seed)
    assert minigrad.Generator().manual_seed(-1).initial_seed() == 2**64 - 1
    with minigrad.random.fork_rng(devices=[]):  # (the global seed is put back)
        minigrad.manual_seed(3.0)
        assert minigrad.initial_seed() == 3


def test_fork_rng_device_types():
    """``fork_rng(devices=[], device_type="cpu")`` forks the CPU generator (it raised
    NotImplementedError); ``"meta"`` forks nothing; ``"cpu"`` with devices raises PyTorch's
    AttributeError (its ``torch.cpu`` keeps no device states)."""
    with minigrad.random.fork_rng(devices=[]):  # (the global generator is put back)
        minigrad.manual_seed(1)
        with minigrad.random.fork_rng(devices=[], device_type="cpu"):
            minigrad.rand(3)
        after = minigrad.rand(1).item()
        minigrad.manual_seed(1)
        assert minigrad.rand(1).item() == after
        minigrad.manual_seed(1)
        with minigrad.random.fork_rng(device_type="meta"):
            minigrad.rand(3)
        assert minigrad.rand(1).item() != after  # meta: the draws count
        with pytest.raises(AttributeError, match="has no attribute 'get_rng_state'"):
            with minigrad.random.fork_rng(device_type="cpu"):
                pass
        with minigrad.random.fork_rng(enabled=False, device_type="cpu"):
            pass


def test_dataloader_fetches_through_getitems_and_overridden_getitem():
    """A dataset's ``__getitems__`` gets each batch's indices at once, through ``Subset`` too
    (minigrad called ``__getitem__`` per index); a ``TensorDataset`` subclass that overrides
    ``__getitem__`` is indexed through it (the sliced fast path skipped its augmentation)."""
    from minigrad.utils.data import DataLoader, Dataset, Subset, TensorDataset

    class Batched(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return minigrad.tensor(float(i))

        def __getitems__(self, indices):
            return [minigrad.tensor(100.0 + i) for i in indices]

    assert [b.tolist() for b in DataLoader(Batched(), batch_size=4)] == [
        [100.0, 101.0, 102.0, 103.0],
        [104.0, 105.0],
    ]
    assert next(iter(DataLoader(Subset(Batched(), [5, 1]), batch_size=2))).tolist() == [105, 101]
    assert Subset(list(range(10)), [3, 4]).__getitems__([1, 0]) == [4, 3]
    assert [b.tolist() for b in DataLoader(Batched(), batch_size=None)][:2] == [0.0, 1.0]

    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    x, y = next(iter(DataLoader(Doubled(minigrad.arange(4.0), minigrad.arange(4)), batch_size=2)))
    assert x.tolist() == [0.0, 2.0] and y.tolist() == [0, 1]


def test_sampler_and_dataset_checks_as_pytorchs():
    """WeightedRandomSampler draws more samples than non-zero weights without replacement (the
    zero-weight indices last, as PyTorch's multinomial; minigrad refused) and refuses a
    non-bool ``replacement`` with ValueError (it raised TypeError); ConcatDataset refuses an
    IterableDataset with PyTorch's assertion (it failed on len())."""
    from minigrad.utils.data import ConcatDataset, IterableDataset, WeightedRandomSampler

    g = minigrad.Generator().manual_seed(0)
    drawn = list(WeightedRandomSampler([0.0, 1.0, 0.0], 2, replacement=False, generator=g))
    assert drawn[0] == 1 and sorted(drawn) in ([0, 1], [1, 2])
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler([0.1, 0.2], 2, replacement=1)

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(3))

    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([range(2), Stream()])


def test_optimizer_getstate_setstate_as_pytorchs():
    """Optimizers written for PyTorch extend ``__setstate__`` with ``super().__setstate__``
    (SophiaG, transformers' AdamW): minigrad's base class had none, so deep-copying one raised
    AttributeError. The copy keeps state and groups, not hooks, and its defaults gain
    ``differentiable=False``, as PyTorch's."""
    import copy

    class Custom(minigrad.optim.SGD):
        def __setstate__(self, state):
            super().__setstate__(state)
            for group in self.param_groups:
                group.setdefault("extra", 1)

    p = minigrad.nn.Parameter(minigrad.ones(2))
    opt = Custom([p], lr=0.1, momentum=0.9)
    opt.register_step_pre_hook(lambda *args: None)
    p.grad = minigrad.ones(2)
    opt.step()
    assert list(opt.__getstate__())[:3] == ["defaults", "state", "param_groups"]
    twin = copy.deepcopy(opt)
    q = twin.param_groups[0]["params"][0]
    assert q is not p and twin.state[q]["momentum_buffer"].tolist() == [1.0, 1.0]
    assert twin.param_groups[0]["extra"] == 1 and twin.defaults["differentiable"] is False
    assert "_step_pre_hooks" not in vars(twin) and "_step_pre_hooks" in vars(opt)
    q.grad = minigrad.ones(2)
    twin.step()  # it steps with the copied momentum: 0.9 - 0.1 * (0.9 * 1 + 1)
    assert abs(q - 0.71).max().item() < 1e-6


def test_custom_function_misuse_as_pytorchs():
    """``ctx.save_for_backward`` keeps tensors (and None) only, with PyTorch's TypeError when the
    call is recorded (an int was kept); an instantiated Function warns and calling it raises PyTorch's legacy-function
    RuntimeError (a TypeError: not callable); a gradient of a wrong shape names the
    ``Function``, capitalized as PyTorch's message."""

    class SavesAnInt(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, None, 3)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(TypeError, match="can only save variables, but argument 2 is of type int"):
        SavesAnInt.apply(minigrad.ones(2, requires_grad=True))
    assert SavesAnInt.apply(minigrad.ones(2)).tolist() == [2.0, 2.0]  # not recorded: unchecked
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        instance = SavesAnInt()
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        instance(minigrad.ones(2))

    class Widens(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g.expand(3)

    with pytest.raises(RuntimeError, match=r"^Function WidensBackward returned an invalid grad"):
        Widens.apply(minigrad.ones(2, requires_grad=True)).backward()


def test_load_state_dict_shares_tensors_that_need_no_cast_as_pytorchs():
    """Loading another optimizer's live ``state_dict()`` (population-based training's exploit
    step) shares its state tensors, step counts included, as PyTorch's ``Tensor.to`` returns
    the tensor itself; minigrad copied them, so the two optimizers drifted apart where
    PyTorch's move together. A cast (another dtype) still makes a new tensor."""
    torch = pytest.importorskip("torch")
    runs = []
    for lib in (minigrad, torch):
        p, q = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2))
        first = lib.optim.Adam([p], lr=0.1)
        p.grad = lib.ones(2)
        first.step()
        second = lib.optim.Adam([q], lr=0.1)
        second.load_state_dict(first.state_dict())
        shared = second.state[q]["exp_avg"] is first.state[p]["exp_avg"]
        shared_step = second.state[q]["step"] is first.state[p]["step"]
        q.grad = lib.full((2,), 3.0)
        second.step()
        p.grad = lib.ones(2)
        first.step()
        runs.append((shared, shared_step, first.state[p]["step"].item(), *p.tolist(), *q.tolist()))
    assert runs[0][:3] == runs[1][:3] == (True, True, 3.0)
    assert runs[0][3:] == pytest.approx(runs[1][3:], abs=1e-7)
    wide = minigrad.nn.Parameter(minigrad.ones(2, dtype=minigrad.float64))
    cast = minigrad.optim.Adam([wide])
    cast.load_state_dict(_adam_state_after_one_step())
    assert cast.state[wide]["exp_avg"].dtype == minigrad.float64  # cast: a new tensor


def _adam_state_after_one_step() -> dict:
    p = minigrad.nn.Parameter(minigrad.ones(2))
    opt = minigrad.optim.Adam([p])
    p.grad = minigrad.ones(2)
    opt.step()
    return opt.state_dict()


def test_cosine_warm_restarts_counts_no_steps_as_pytorchs():
    """CosineAnnealingWarmRestarts.step does not count ``_step_count`` (PyTorch's own step
    bypasses the base class's): its state dict says 0 after any number of steps."""
    opt = minigrad.optim.SGD([minigrad.nn.Parameter(minigrad.ones(1))], lr=0.1)
    sched = minigrad.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    for _ in range(4):
        opt.step()
        sched.step()
    assert sched.state_dict()["_step_count"] == 0 and sched.state_dict()["T_cur"] == 1
