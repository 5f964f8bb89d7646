"""FSDP2 (``fully_shard``) checks, run in the jobs of tests/dtensor_checks.py (alone and on 2
ranks: a job of their own would cost its start-up, ~5 s of CPU). The oracle on every rank is
the same model trained in one process on the whole batch (FSDP averages the ranks' gradients
of their parts, so its steps are full-batch steps); tests/test_fsdp.py compares a whole
program with PyTorch's FSDP2 on gloo (opt-in)."""

import numpy as np

import minigrad
from minigrad import nn
from minigrad.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    set_model_state_dict,
)
from minigrad.distributed.fsdp import (
    FSDPModule,
    FullyShardedDataParallel,
    MixedPrecisionPolicy,
    fully_shard,
)
from minigrad.distributed.tensor import DTensor, Shard, init_device_mesh

CHECKS = {}


def check(fn):
    CHECKS[fn.__name__] = fn
    return fn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 2 * d + 1)  # an odd number of rows: uneven shards
        self.fc2 = nn.Linear(2 * d + 1, d)

    def forward(self, x):
        return x + self.fc2(minigrad.tanh(self.fc1(self.norm(x))))


class Net(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.inp = nn.Linear(3, d)
        self.blocks = nn.ModuleList([Block(d), Block(d)])
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        h = self.inp(x)
        for b in self.blocks:
            h = b(h)
        return self.out(h)


def models(**kwargs):
    """A sharded model (each block, then the root) and its unsharded twin, same weights."""
    g = np.random.default_rng(0)
    ref = Net()
    ref.load_state_dict(
        {
            k: minigrad.tensor(g.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in ref.state_dict().items()
        }  # fmt: skip
    )
    model = Net()
    model.load_state_dict(ref.state_dict())
    for b in model.blocks:
        fully_shard(b, **kwargs)
    fully_shard(model, **kwargs)
    return model, ref


def batch(step, rank, world, n=4):
    """The whole batch of ``step`` and this rank's half of it."""
    g = np.random.default_rng(100 + step)
    x, y = (minigrad.tensor(g.normal(size=(n, k)).astype(np.float32)) for k in (3, 1))
    per = n // world
    return (x, y), (x[rank * per : (rank + 1) * per], y[rank * per : (rank + 1) * per])


def same_weights(model, ref, what, tol=1e-6):
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(
            p.full_tensor().detach().numpy(), q.detach().numpy(), rtol=tol, atol=tol,
            err_msg=f"{what}: {name}",
        )  # fmt: skip


@check
def parameters_are_row_shards(mesh, rank, world):
    model, ref = models()
    assert type(model).__name__ == "FSDPNet" and isinstance(model, (FSDPModule, Net))
    assert type(model.blocks[0]).__name__ == "FSDPBlock" and type(model.inp) is nn.Linear
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        assert isinstance(p, DTensor) and isinstance(p, nn.Parameter), name
        assert p.placements == (Shard(0),) and p.shape == q.shape, name
        step = -(-q.shape[0] // world)  # torch.chunk's rows: 9 rows on 2 ranks are 5 and 4
        rows = q.detach().numpy()[rank * step : (rank + 1) * step]
        np.testing.assert_array_equal(p.to_local().detach().numpy(), rows, err_msg=name)
    assert all(isinstance(v, DTensor) for v in model.state_dict().values())


@check
def adamw_steps_match_full_batch(mesh, rank, world):
    model, ref = models()
    opt = minigrad.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)
    ref_opt = minigrad.optim.AdamW(ref.parameters(), lr=0.05, weight_decay=0.1)
    for step in range(2):
        (x, y), (xr, yr) = batch(step, rank, world)
        ((model(xr) - yr) ** 2).mean().backward()
        for p in model.parameters():
            assert isinstance(p.grad, DTensor) and p.grad.placements == (Shard(0),)
            assert p.grad.to_local().shape == p.to_local().shape
        norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        ((ref(x) - y) ** 2).mean().backward()
        ref_norm = nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
        assert isinstance(norm, DTensor)
        np.testing.assert_allclose(norm.full_tensor().item(), ref_norm.item(), rtol=1e-6)
        for o in (opt, ref_opt):
            o.step()
            o.zero_grad()
        same_weights(model, ref, f"AdamW step {step}")
    state = opt.state[next(iter(model.parameters()))]
    assert isinstance(state["exp_avg"], DTensor) and state["exp_avg"].placements == (Shard(0),)
    opt.load_state_dict(opt.state_dict())
    model(batch(0, rank, world)[1][0]).sum().backward()
    opt.zero_grad(set_to_none=False)  # zeros in place, on the local parts
    assert all(p.grad.to_local().abs().sum().item() == 0 for p in model.parameters())


@check
def reshard_after_forward_and_backward(mesh, rank, world):
    model, _ = models()
    _, (xr, _) = batch(0, rank, world)
    out = model(xr)  # default: the blocks reshard, the root keeps its parameters for backward
    assert isinstance(model.blocks[0].fc1.weight, DTensor)
    assert not isinstance(model.inp.weight, DTensor) and model.inp.weight.shape == (4, 3)
    out.sum().backward()
    assert all(isinstance(p, DTensor) for p in model.parameters())
    model.set_reshard_after_forward(True)
    model(xr)
    sharded = model.inp.weight
    assert isinstance(sharded, DTensor)
    model.unshard()
    full = model.inp.weight
    assert not isinstance(full, DTensor) and full.shape == (4, 3)
    np.testing.assert_array_equal(full.detach().numpy(), sharded.full_tensor().detach().numpy())
    model.reshard()
    assert model.inp.weight is sharded
    model2, _ = models(reshard_after_forward=False)
    model2(xr)
    assert not isinstance(model2.blocks[1].fc2.weight, DTensor)


@check
def gradient_accumulation_without_sync(mesh, rank, world):
    model, ref = models()
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = minigrad.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for micro in range(2):
        model.set_requires_gradient_sync(micro == 1)
        (x, y), (xr, yr) = batch(micro, rank, world)
        (((model(xr) - yr) ** 2).mean() / 2).backward()
        (((ref(x) - y) ** 2).mean() / 2).backward()
        if micro == 0:  # kept unsharded on each rank: nothing reduced yet
            assert all(p.grad is None for p in model.parameters())
    opt.step()
    ref_opt.step()
    same_weights(model, ref, "SGD after accumulating 2 micro-batches")


@check
def mixed_precision(mesh, rank, world):
    policy = MixedPrecisionPolicy(param_dtype=minigrad.float64, reduce_dtype=minigrad.float64)
    model, ref = models(mp_policy=policy)
    (x, y), (xr, yr) = batch(0, rank, world)
    pred = model(xr)  # float32 inputs cast to float64 with the gathered parameters
    assert pred.dtype == minigrad.float64
    ((pred - yr.double()) ** 2).mean().backward()
    ref.double()
    ((ref(x.double()) - y.double()) ** 2).mean().backward()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        assert p.dtype == p.grad.dtype == minigrad.float32, name
        np.testing.assert_allclose(
            p.grad.full_tensor().numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7, err_msg=name
        )


@check
def full_and_sharded_state_dicts(mesh, rank, world):
    model, ref = models()
    full = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
    assert list(full) == list(ref.state_dict())
    for k, v in full.items():
        assert not isinstance(v, DTensor)
        np.testing.assert_array_equal(v.numpy(), ref.state_dict()[k].numpy(), err_msg=k)
    offloaded = StateDictOptions(full_state_dict=True, cpu_offload=True)
    assert (len(get_model_state_dict(model, options=offloaded)) > 0) == (rank == 0)
    fresh, _ = models()
    for p in fresh.parameters():
        p.to_local().detach().zero_()
    set_model_state_dict(fresh, full, options=StateDictOptions(full_state_dict=True))
    same_weights(fresh, ref, "a full state dict loaded into a sharded model")
    again, _ = models()
    again.load_state_dict(model.state_dict())  # sharded DTensors into sharded parameters
    same_weights(again, ref, "a sharded state dict")


def fsdp1(model, strategy):
    from minigrad.distributed.fsdp import ShardingStrategy
    from minigrad.distributed.fsdp.wrap import ModuleWrapPolicy

    return FullyShardedDataParallel(
        model, auto_wrap_policy=ModuleWrapPolicy({Block}), device_id="cpu",
        sharding_strategy=ShardingStrategy[strategy],
    )  # fmt: skip


@check
def fsdp1_flat_parameters_match_full_batch(mesh, rank, world):
    for strategy in ("FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD"):
        _, ref = models()
        model = Net()
        model.load_state_dict(ref.state_dict())
        model = fsdp1(model, strategy)
        n = 1 if strategy == "NO_SHARD" else world
        sizes = [3 * 4 + 4 + 4 + 1, 4 + 4 + 4 * 9 + 9 + 9 * 4 + 4]  # root's (inp, out), a block's
        names = ["_fsdp_wrapped_module._flat_param"] + [
            f"_fsdp_wrapped_module.blocks.{i}._fsdp_wrapped_module._flat_param" for i in (0, 1)
        ]
        got = [(k, tuple(p.shape)) for k, p in model.named_parameters()]
        assert got == [(k, (-(-t // n),)) for k, t in zip(names, sizes[:1] + sizes[1:] * 2)], got
        opt = minigrad.optim.AdamW(model.parameters(), lr=0.05)
        ref_opt = minigrad.optim.AdamW(ref.parameters(), lr=0.05)
        (x0, y0), (xr0, yr0) = batch(5, rank, world)
        (x, y), (xr, yr) = batch(6, rank, world)
        with model.no_sync():
            (((model(xr0) - yr0) ** 2).mean() / 2).backward()
        (((model(xr) - yr) ** 2).mean() / 2).backward()
        norm = model.clip_grad_norm_(0.5)
        ((((ref(x0) - y0) ** 2).mean() + ((ref(x) - y) ** 2).mean()) / 2).backward()
        ref_norm = nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
        np.testing.assert_allclose(norm.item(), ref_norm.item(), rtol=1e-6, err_msg=strategy)
        opt.step()
        ref_opt.step()
        with FullyShardedDataParallel.summon_full_params(model):
            with minigrad.no_grad():
                model.out.bias.add_(1.0)  # written back to the shards on leaving
        with minigrad.no_grad():
            ref.out.bias.add_(1.0)
        full = model.state_dict()
        assert list(full) == list(ref.state_dict()), strategy
        for k, v in ref.state_dict().items():
            np.testing.assert_allclose(full[k].numpy(), v.numpy(), rtol=1e-6, atol=1e-6,
                                       err_msg=f"{strategy} {k}")  # fmt: skip
    fresh = fsdp1(Net(), "FULL_SHARD")
    fresh.load_state_dict(full)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), full[k].numpy(), err_msg=f"loaded {k}")


@check
def refusals(mesh, rank, world):
    mesh3 = init_device_mesh("cpu", (1, 1, world))  # (2-d: HSDP, tests/dist20_program.py)
    assert fully_shard(nn.Linear(2, 2), mesh=mesh).weight.device_mesh is mesh
    for call, match in (
        (lambda: fully_shard(nn.Linear(2, 2), mesh=mesh3), "3-d mesh"),
        (lambda: fully_shard(nn.Linear(2, 2), reshard_after_forward=2), "as an int"),
        (lambda: fully_shard(fully_shard(nn.Linear(2, 2))), "already sharded"),
        (lambda: FullyShardedDataParallel(nn.Linear(2, 2)), "non-CPU accelerator"),
    ):
        try:
            call()
        except (NotImplementedError, ValueError, RuntimeError) as e:
            assert match in str(e), (match, str(e))
        else:
            raise AssertionError(f"no error for {match}")
