"""Checks of the join context manager (uneven inputs) that run inside the 2-rank job of
tests/test_distributed.py (tests/dist_checks.py runs them after its own, so that they cost no
second job's start-up). Rank r has ``2 + 2 * r`` batches; every rank computes the one-process
reference from every rank's batches."""

import numpy as np

import minigrad
import minigrad.distributed as dist
from minigrad import nn
from minigrad.distributed.algorithms import Join, Joinable, JoinHook
from minigrad.nn.parallel import DistributedDataParallel as DDP

CHECKS = {}


def check(fn):
    CHECKS[fn.__name__] = fn
    return fn


def batches(rank):
    """Rank ``rank``'s batches, computable on every rank."""
    rng = np.random.default_rng(rank)
    return [
        minigrad.tensor(rng.normal(size=(3, 4)).astype(np.float32)) for _ in range(2 + 2 * rank)
    ]


def make_model():
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))


def reference(world, divide_by_initial_world_size):
    """SGD where step i sums the gradients of the ranks that still have a batch i, divided by
    the world size (or by the number of those ranks). BatchNorm normalises each batch by its
    own statistics in training, so its running buffers do not change the gradients."""
    model = make_model()
    data = [batches(r) for r in range(world)]
    for i in range(max(len(d) for d in data)):
        live = [d[i] for d in data if i < len(d)]
        total = [minigrad.zeros_like(p) for p in model.parameters()]
        for x in live:
            model.zero_grad()
            model(x).square().mean().backward()
            total = [t + p.grad for t, p in zip(total, model.parameters())]
        scale = world if divide_by_initial_world_size else len(live)
        with minigrad.no_grad():
            for p, g in zip(model.parameters(), total):
                p -= 0.1 * g / scale
    return model


def train_with_join(rank, divide_by_initial_world_size, **ddp_kwargs):
    model = DDP(make_model(), **ddp_kwargs)
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
    with model.join(divide_by_initial_world_size=divide_by_initial_world_size):
        for x in batches(rank):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    return model.module


def same_on_every_rank(model, world):
    mine = {k: v.numpy().tolist() for k, v in model.state_dict().items()}
    everyone = [None] * world
    dist.all_gather_object(everyone, mine)
    for theirs in everyone:
        assert theirs == mine, "the ranks ended with different models"


def close_models(actual, expected):
    for (name, a), b in zip(actual.named_parameters(), expected.parameters()):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-6, err_msg=name)


@check
def uneven_inputs_train_like_one_process(rank, world):
    model = train_with_join(rank, True)
    close_models(model, reference(world, True))
    same_on_every_rank(model, world)  # buffers too: the last joiner's


@check
def divide_by_ranks_still_training_with_unused_parameters(rank, world):
    model = train_with_join(rank, False, find_unused_parameters=True)
    close_models(model, reference(world, False))
    same_on_every_rank(model, world)


@check
def no_sync_iterations_are_shadowed_without_a_reduction(rank, world):
    model = DDP(make_model())
    with model.join():
        for i, x in enumerate(batches(rank)):
            with model.no_sync() if i % 2 == 0 else minigrad.enable_grad():
                model(x).sum().backward()
            with minigrad.no_grad():
                model(x)  # an evaluation forward: no reduction to shadow
    grads = [p.grad.numpy() for p in model.parameters()]
    expected = make_model()
    mine = batches(rank)
    for x in mine:
        expected(x).sum().backward()
    if world == 1:
        for g, p in zip(grads, expected.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-6)


@check
def throw_on_early_termination_raises_on_every_rank(rank, world):
    model = DDP(make_model())
    raised = None
    try:
        with model.join(throw_on_early_termination=True):
            for x in batches(rank):
                model(x).sum().backward()
    except RuntimeError as e:
        raised = str(e)
    if world == 1:
        assert raised is None, raised
    elif rank == 0:
        assert raised == "Rank 0 exhausted all inputs.", raised
    else:
        assert raised.startswith("Detected at least one rank that exhausted inputs"), raised


class Counter(Joinable):
    """A joinable with one all-reduce per iteration: the number of batches seen in total."""

    def __init__(self):
        super().__init__()
        self.total = minigrad.zeros(1)
        self.posts = []

    def step(self):
        Join.notify_join_context(self)
        t = minigrad.ones(1)
        dist.all_reduce(t)
        self.total += t

    def join_hook(self, **kwargs):
        counter = self

        class Hook(JoinHook):
            def main_hook(self):
                t = minigrad.zeros(1)
                dist.all_reduce(t)  # shadows step()'s all-reduce
                counter.total += t

            def post_hook(self, is_last_joiner):
                counter.posts.append(is_last_joiner)

        return Hook()

    @property
    def join_device(self):
        return minigrad.device("cpu")

    @property
    def join_process_group(self):
        return dist.group.WORLD


@check
def a_custom_joinable_sees_every_rank_s_steps(rank, world):
    counter = Counter()
    with Join([counter]):
        for _ in batches(rank):
            counter.step()
    # step i is counted once per rank that still had a batch i
    expected = sum(len(batches(r)) for r in range(world))
    assert counter.total.item() == expected, (counter.total.item(), expected)
    assert counter.posts == [rank == world - 1], counter.posts
