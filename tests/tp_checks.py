"""Tensor-parallel checks (``minigrad.distributed.tensor.parallel``), run in the jobs of
tests/dtensor_checks.py (alone and on 2 ranks: a job of their own would cost its start-up).
The oracle on every rank is the same model unsharded in the same process;
tests/test_tensor_parallel.py compares a whole program with PyTorch's TP on gloo (opt-in)."""

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor
from minigrad.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    PrepareModuleOutput,
    RowwiseParallel,
    SequenceParallel,
    loss_parallel,
    parallelize_module,
)

CHECKS = {}
V, D, HEADS = 6, 4, 2


def check(fn):
    CHECKS[fn.__name__] = fn
    return fn


class Block(nn.Module):
    """Embedding, causal attention (q/k/v, o) and an MLP, as a transformer layer."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, D)
        self.q, self.v, self.o = (nn.Linear(D, D) for _ in range(3))
        self.k = nn.Linear(D, D, bias=False)  # (a key bias gets no gradient: softmax drops it)
        self.fc1, self.fc2 = nn.Linear(D, 2 * D), nn.Linear(2 * D, D)

    def forward(self, ids):
        h = self.emb(ids)
        b, t, _ = h.shape
        q, k, v = (
            f(h).view(b, t, -1, D // HEADS).transpose(1, 2) for f in (self.q, self.k, self.v)
        )
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + self.o(a.transpose(1, 2).reshape(b, t, -1))  # (-1: this rank's heads)
        return h + self.fc2(minigrad.tanh(self.fc1(h)))


def twins(plan, mesh):
    """The block parallelized by ``plan`` and its unsharded twin, same float64 weights."""
    g = np.random.default_rng(0)
    ref = Block().double()
    for p in ref.parameters():
        p.data.copy_(minigrad.tensor(g.normal(size=tuple(p.shape)) * 0.5))
    model = Block().double()
    model.load_state_dict(ref.state_dict())
    return parallelize_module(model, mesh, plan), ref


def close(got, want, what):
    got = got.full_tensor() if isinstance(got, DTensor) else got
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), 1e-12, 1e-12, what)


@check
def tp_layer_matches_one_process(mesh, rank, world):
    plan = {
        "emb": RowwiseParallel(input_layouts=Replicate()),  # vocabulary rows: partial sums
        "[qkv]": ColwiseParallel(),
        "o": RowwiseParallel(),
        "fc1": ColwiseParallel(use_local_output=False),  # a DTensor through tanh
        "fc2": RowwiseParallel(),
    }
    model, ref = twins(plan, mesh)
    want = {"emb": Shard(0), "q": Shard(0), "o": Shard(1), "fc1": Shard(0), "fc2": Shard(1)}
    for name, placement in want.items():
        w = getattr(model, name).weight
        assert isinstance(w, DTensor) and isinstance(w, nn.Parameter), name
        assert w.placements == (placement,), (name, w.placements)
    assert model.o.bias.placements == (Replicate(),) and model.q.bias.placements == (Shard(0),)
    opts = [minigrad.optim.AdamW(m.parameters(), lr=0.05) for m in (model, ref)]
    g = np.random.default_rng(1)
    for step in range(2):
        ids = minigrad.tensor(g.integers(0, V, (2, 3)))
        outs = [m(ids) for m in (model, ref)]
        assert type(outs[0]) is minigrad.Tensor  # (use_local_output: a replicated plain tensor)
        close(outs[0], outs[1], f"output {step}")
        for out, opt in zip(outs, opts):
            opt.zero_grad()
            (out**2).sum().backward()
        for (name, p), q in zip(model.named_parameters(), ref.parameters()):
            assert p.grad.placements == p.placements, name
            close(p.grad, q.grad, f"gradient of {name}, step {step}")
        for opt in opts:
            opt.step()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        close(p, q, f"{name} after 2 AdamW steps")


@check
def tp_layouts_and_prepare_hooks(mesh, rank, world):
    """Colwise embedding (Shard(1)), a rowwise output reduced and scattered to Shard(0) rows
    (DTensor out), PrepareModuleOutput gathering it, PrepareModuleInput on keywords."""
    plan = {
        "emb": ColwiseParallel(output_layouts=Replicate()),
        "fc1": ColwiseParallel(),
        "fc2": RowwiseParallel(output_layouts=Shard(0), use_local_output=False),
    }
    model, ref = twins(plan, mesh)
    assert model.emb.weight.placements == (Shard(1),)
    ids = minigrad.tensor([[1, 5, 0], [2, 2, 4]])
    h = model.fc2(minigrad.tanh(model.fc1(model.emb(ids))))
    assert isinstance(h, DTensor) and h.placements == (Shard(0),) and h.shape == (2, 3, D)
    close(h, ref.fc2(minigrad.tanh(ref.fc1(ref.emb(ids)))), "rows scattered")
    out = PrepareModuleOutput(output_layouts=Shard(0), desired_output_layouts=Replicate())
    parallelize_module(model.fc2, mesh, out)
    got = model.fc2(minigrad.tanh(model.fc1(model.emb(ids))))
    assert type(got) is minigrad.Tensor and got.shape == (2, 3, D)
    close(got, h.full_tensor(), "PrepareModuleOutput")
    seen = {}

    class Probe(nn.Module):
        def forward(self, x, *, y):
            seen.update(x=x, y=y)
            return x

    layouts = {"input_layouts": (Replicate(),), "desired_input_layouts": (Shard(0),)}
    probe = parallelize_module(Probe(), mesh, PrepareModuleInput(
        **layouts, input_kwarg_layouts={"y": Replicate()},
        desired_input_kwarg_layouts={"y": Replicate()},
    ))  # fmt: skip
    x = minigrad.arange(4.0).reshape(2, 2)
    probe(x, y=x)
    assert seen["x"].placements == (Shard(0),) and seen["y"].placements == (Replicate(),)
    close(seen["x"], x, "PrepareModuleInput")


@check
def sequence_parallel_norm_matches_one_process(mesh, rank, world):
    """A LayerNorm on sequence shards between an all-gathering colwise and a
    reduce-scattering rowwise layer: outputs and gradients (the norm's summed)."""
    g = np.random.default_rng(2)
    nets = [nn.Sequential(nn.LayerNorm(D), nn.Linear(D, 2 * D), nn.Linear(2 * D, D)).double()
            for _ in range(2)]  # fmt: skip
    for p in nets[1].parameters():
        p.data.copy_(minigrad.tensor(g.normal(size=tuple(p.shape))))
    nets[0].load_state_dict(nets[1].state_dict())
    plan = {
        "0": SequenceParallel(),
        "1": ColwiseParallel(input_layouts=Shard(1)),
        "2": RowwiseParallel(output_layouts=Shard(1), use_local_output=False),
    }
    model, ref = parallelize_module(nets[0], mesh, plan), nets[1]
    x = minigrad.tensor(g.normal(size=(2, 2 * world, D)))
    out = model(x.chunk(world, 1)[rank])  # (this rank's positions)
    assert out.placements == (Shard(1),) and model[0].weight.placements == (Replicate(),)
    want = ref(x)
    close(out, want, "output")
    (out.to_local() ** 3).sum().backward()
    (want**3).sum().backward()
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        close(p.grad, q.grad, f"gradient of {name}")


@check
def loss_parallel_matches_cross_entropy(mesh, rank, world):
    """Cross-entropy of vocabulary-sharded logits (flattened on their shards), ignored labels
    included: the loss and the logits' sharded gradient as the gathered ones give."""
    g = np.random.default_rng(3)
    logits = minigrad.tensor(g.normal(size=(2, 3, 2 * world + 1)), requires_grad=True)
    labels = minigrad.tensor([[0, 2 * world, -100], [1, 2, 0]])
    want = F.cross_entropy(logits.flatten(0, 1), labels.flatten(0, 1))
    want.backward()
    sharded = distribute_tensor(logits.detach(), mesh, [Shard(2)]).requires_grad_()
    with loss_parallel():
        got = F.cross_entropy(sharded.flatten(0, 1), labels.flatten(0, 1), reduction="mean")
        got.backward()
    assert got.placements == (Replicate(),) and sharded.grad.placements == (Shard(2),)
    close(got, want, "loss")
    close(sharded.grad, logits.grad, "gradient")


@check
def tp_sharding_rules_and_refusals(mesh, rank, world):
    x = distribute_tensor(minigrad.ones(2, 4, dtype=minigrad.float64), mesh, [Shard(1)])
    w = distribute_tensor(minigrad.ones(3, 4, dtype=minigrad.float64), mesh, [Shard(1)])
    y = F.linear(x, w)
    assert y.placements == (Partial("sum"),) and y.shape == (2, 3)
    assert (y.full_tensor().numpy() == 4).all()
    rows = distribute_tensor(minigrad.ones(3, 4, dtype=minigrad.float64), mesh, [Shard(0)])
    for bad in ((x, rows), (x.redistribute(placements=[Replicate()]), w)):
        try:
            F.linear(*bad)
        except NotImplementedError as e:
            assert "linear" in str(e), e
        else:
            raise AssertionError(f"linear on {[b.placements for b in bad]} did not raise")
    try:
        parallelize_module(nn.Conv1d(2, 2, 1), mesh, ColwiseParallel())
    except NotImplementedError as e:
        assert "only support nn.Linear and nn.Embedding" in str(e)
    else:
        raise AssertionError("ColwiseParallel of a Conv1d did not raise")
    model = parallelize_module(nn.Linear(2, 2), mesh, ColwiseParallel())
    try:
        parallelize_module(model, mesh, RowwiseParallel())
    except RuntimeError as e:
        assert "only be called once" in str(e)
    else:
        raise AssertionError("a second parallelize_module did not raise")
