"""Random factories, range factories and ``minigrad.tensor`` restate an impossible allocation as
``minigrad.OutOfMemoryError`` (as ops and fill factories do), naming the factory and device,
before allocating anything; a size past what an array can address is one too."""

import time

import pytest

import minigrad

HUGE = (2**40, 2**20)  # 2**60 elements: past what any array can address
BIG = 2**42  # 32 TiB of uint64 random bits: no machine allocates it

FACTORIES = {
    "rand": lambda d: minigrad.rand(*HUGE, device=d),
    "randn": lambda d: minigrad.randn(*HUGE, device=d),
    "randint": lambda d: minigrad.randint(0, 5, (BIG,), device=d),
    "normal": lambda d: minigrad.normal(0.0, 1.0, (BIG,), device=d),
    "arange": lambda d: minigrad.arange(2**62, device=d),
    "eye": lambda d: minigrad.eye(2**31, device=d),
    "zeros": lambda d: minigrad.zeros(2**40, 2**21, device=d),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_raises_out_of_memory_quickly(name, device):
    start = time.perf_counter()
    with pytest.raises(minigrad.OutOfMemoryError, match=f"{name}: out of memory on {device}"):
        FACTORIES[name](device)
    assert time.perf_counter() - start < 1.0  # refused, not attempted


def test_random_like_factories_and_tensor_raise_it_too():
    view = minigrad.ones(1).expand(BIG)  # a view: nothing allocated
    with pytest.raises(minigrad.OutOfMemoryError, match="rand: out of memory on cpu"):
        minigrad.rand_like(view)
    with pytest.raises(minigrad.OutOfMemoryError, match="randn: out of memory on cpu: .+"):
        minigrad.randn(BIG)
    with pytest.raises(minigrad.cuda.OutOfMemoryError, match="tensor: out of memory on cpu: .+"):
        minigrad.tensor(range(BIG))
    with pytest.raises(MemoryError):  # code catching NumPy's MemoryError still catches it
        minigrad.randint(10, (BIG,))
    with pytest.raises(minigrad.OutOfMemoryError, match="Mul: out of memory on cpu"):
        minigrad.ones(1).expand(2**40) * minigrad.ones(2**22, 1)  # ops: past any address too
    assert minigrad.randn(2, 3).shape == (2, 3) and minigrad.tensor([1, 2]).tolist() == [1, 2]
