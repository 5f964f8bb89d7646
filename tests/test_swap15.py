"""``torch.utils.swap_tensors`` and ``torch.__future__``'s module-conversion switches, each run
on minigrad and on PyTorch side by side: what is swapped, what is refused (and with which
message), ``Module.to``/``to_empty``/``load_state_dict`` keeping parameter identity, and the
"swap tensors" recipe of PyTorch's tutorials as one program."""

import weakref

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


@pytest.fixture(params=["minigrad", "torch"])
def lib(request):
    """Each test runs on both libraries; the module-conversion switches are reset after it."""
    mod = minigrad if request.param == "minigrad" else torch
    yield mod
    mod.__future__.set_swap_module_params_on_conversion(False)
    mod.__future__.set_overwrite_module_params_on_conversion(False)


def _dtype(t) -> str:
    return str(t.dtype).split(".")[-1]


def _both(fn):
    """``fn(lib)`` on minigrad and on PyTorch (the switches reset after each)."""
    out = []
    for mod in (minigrad, torch):
        try:
            out.append(fn(mod))
        finally:
            mod.__future__.set_swap_module_params_on_conversion(False)
            mod.__future__.set_overwrite_module_params_on_conversion(False)
    return out


def test_swap_exchanges_contents_and_keeps_identities(lib):
    a, b = lib.arange(2.0), lib.arange(3)
    a.add_(1)
    ida, idb = id(a), id(b)
    lib.utils.swap_tensors(a, b)
    assert (id(a), id(b)) == (ida, idb)
    assert a.tolist() == [0, 1, 2] and _dtype(a) == "int64" and a._version == 0
    assert b.tolist() == [1.0, 2.0] and _dtype(b) == "float32" and b._version == 1
    p = lib.ones(2, requires_grad=True)
    p.grad = lib.full((2,), 3.0)
    q = lib.zeros(1)
    lib.utils.swap_tensors(p, q)
    assert (p.requires_grad, q.requires_grad, p.grad, q.grad.tolist()) == (
        False,
        True,
        None,
        [3, 3],
    )
    lib.utils.swap_tensors(a, a)  # itself: nothing changes
    assert a.tolist() == [0, 1, 2]


def test_swap_moves_subclass_state():
    def run(lib):
        class Scaled(lib.Tensor):
            pass

        s = lib.Tensor._make_subclass(Scaled, lib.ones(2))
        s.scale = 0.5
        p = lib.nn.Parameter(lib.zeros(3))
        p.tag = "p"
        lib.utils.swap_tensors(s, p)
        return type(s).__name__, s.tag, s.shape[0], type(p).__name__, p.scale, p.shape[0]

    ours, theirs = _both(run)
    assert ours == theirs == ("Parameter", "p", 3, "Scaled", 0.5, 2)


def test_swap_refusals_match_pytorch():
    def refusals(lib):
        messages = []

        def attempt(f):
            try:
                f()
                messages.append("ok")
            except RuntimeError as error:
                messages.append(str(error))

        a = lib.ones(2)
        r = weakref.ref(a)
        attempt(lambda: lib.utils.swap_tensors(a, lib.ones(1)))
        attempt(lambda: lib.utils.swap_tensors(lib.ones(1), a))
        x = lib.ones(2, requires_grad=True)
        y = (x * x).sum()  # x saved twice, and its AccumulateGrad: use_count 4
        attempt(lambda: lib.utils.swap_tensors(x, lib.zeros(2)))
        h = x * 2
        z = h * h  # a non-leaf saved twice
        attempt(lambda: lib.utils.swap_tensors(h, lib.zeros(2)))
        w = lib.ones(2, requires_grad=True)
        loss = (w * 2).sum()  # only its AccumulateGrad holds it: swapped, the node poisoned
        attempt(lambda: lib.utils.swap_tensors(w, lib.zeros(2)))
        attempt(loss.backward)
        del r, y, z
        return messages

    ours, theirs = _both(refusals)
    assert ours == theirs
    assert ours[0] == "Cannot swap t1 because it has weakref associated with it"
    assert ours[2].startswith("Expected use_count of t1 to be 1 or 2 with an AccumulateGrad")
    assert ours[5].startswith("Trying to execute AccumulateGrad node that was poisoned")


def test_swap_refuses_what_it_cannot_do():
    with pytest.raises(TypeError, match="t2 must be a Tensor, got list"):
        minigrad.utils.swap_tensors(minigrad.ones(2), [1])
    a = minigrad.ones(2)
    view = a[:1]
    with pytest.raises(RuntimeError, match="use_count of t1"):  # the view holds its base
        minigrad.utils.swap_tensors(a, minigrad.ones(3))
    assert view._base is a


def _converted(lib, swap: bool, overwrite: bool):
    lib.__future__.set_swap_module_params_on_conversion(swap)
    lib.__future__.set_overwrite_module_params_on_conversion(overwrite)
    assert lib.__future__.get_swap_module_params_on_conversion() is swap
    m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
    w = m[0].weight
    held = list(m.parameters())  # as an optimizer holds them (its first use costs PyTorch 4 s)
    m(lib.ones(3, 2)).sum().backward()
    g = w.grad
    m.to(lib.float64)
    with lib.no_grad():
        held[0].sub_(held[0].grad)
    seen = [m[0].weight is w, w.grad is g, _dtype(w), _dtype(g), _dtype(m[0].weight)]
    seen += [held[0] is m[0].weight, held[0].dtype == w.dtype]
    seen += [type(w).__name__, _dtype(m[1].running_mean), _dtype(m[1].num_batches_tracked)]
    m.to_empty(device="cpu")
    seen += [m[0].weight is w, _dtype(m[0].weight), tuple(m[0].weight.shape)]
    return seen


@pytest.mark.parametrize("swap, overwrite", [(True, False), (False, True), (True, True)])
def test_module_conversion_switches(swap, overwrite):
    ours, theirs = _both(lambda lib: _converted(lib, swap, overwrite))
    assert ours == theirs
    assert ours[0] is swap  # swapped: the optimizer's parameter is the module's, now float64


def test_conversion_between_forward_and_backward_is_refused_or_poisoned():
    """PyTorch poisons the AccumulateGrad node: its linear keeps no weight where the input needs
    no gradient, nor does minigrad's, whose swap then poisons the node too, in PyTorch's words."""

    def run(lib):
        lib.__future__.set_swap_module_params_on_conversion(True)
        m = lib.nn.Linear(2, 2)
        loss = m(lib.ones(1, 2)).sum()
        try:
            m.double()
            loss.backward()
        except RuntimeError as error:
            return str(error)

    ours, theirs = _both(run)
    assert theirs.startswith("Trying to execute AccumulateGrad node that was poisoned")
    assert ours == theirs


def test_load_state_dict_swaps():
    def run(lib):
        lib.__future__.set_swap_module_params_on_conversion(True)
        m = lib.nn.Linear(2, 1)
        w = m.weight
        sd = {"weight": lib.tensor([[1.0, 2.0]]), "bias": lib.tensor([3.0])}
        copied = m.load_state_dict(sd)
        seen = [str(copied), m.weight is w, w.tolist(), w.requires_grad, sd["weight"] is not w]
        m.load_state_dict({k: v.double() for k, v in sd.items()}, assign=True)
        seen += [m.weight is w, _dtype(w), type(w).__name__, w.requires_grad]
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict({"weight": lib.ones(1, 2), "bias": [1.0]})
        return seen + [info.value.args[0].splitlines()[1].split(",")[0]]

    ours, theirs = _both(run)
    assert ours == theirs
    assert ours[:4] == ["<All keys matched successfully>", True, [[1.0, 2.0]], True]


def _tutorial(torch):
    """PyTorch's "Extension points in nn.Module for load_state_dict and tensor subclasses"
    recipe (recipes/recipes/swap_tensors), with its weight subclass built on
    ``__torch_function__`` (minigrad has no ``__torch_dispatch__``)."""
    nn = torch.nn
    out = []
    t1, t2 = torch.arange(2), torch.arange(3)
    torch.utils.swap_tensors(t1, t2)
    out.append((t1.tolist(), t2.tolist()))

    class MyQuantizedLinearWeight(torch.Tensor):
        @staticmethod
        def __new__(cls, elem, scale):
            return torch.Tensor._make_subclass(cls, elem)

        def __init__(self, elem, scale):
            self.elem = elem
            self.scale = scale

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.Tensor.module_load:
                dest, src = args[0], args[1]
                assert type(dest) is cls and type(src) is torch.Tensor
                return MyQuantizedLinearWeight(src, dest.scale)
            if func in (torch.Tensor.to, torch.Tensor.detach):
                return cls(func(args[0].elem, *args[1:], **kwargs), args[0].scale)
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs)

    torch.__future__.set_swap_module_params_on_conversion(True)
    m = nn.Linear(3, 5, dtype=torch.float32)
    with torch.no_grad():
        m.weight.copy_(torch.arange(15.0).reshape(5, 3) / 8)
        m.bias.fill_(0.25)
    state_dict = m.state_dict()
    m.weight = nn.Parameter(MyQuantizedLinearWeight(m.weight, 0.5))
    weight_id, bias_id = id(m.weight), id(m.bias)
    m.to(torch.float64)
    out.append((id(m.weight) == weight_id, id(m.bias) == bias_id, type(m.weight).__name__))
    out.append((_dtype(m.weight), _dtype(m.weight.elem), _dtype(m.bias), m.weight.scale))
    state_dict = {k: v * 2 for k, v in state_dict.items()}
    out.append(str(m.load_state_dict(state_dict)))
    out.append((id(m.weight) == weight_id, type(m.weight).__name__, m.weight.scale))
    out.append((m.weight.elem.tolist(), m.bias.tolist(), m.weight.requires_grad))
    torch.__future__.set_swap_module_params_on_conversion(False)
    return out


def test_swap_tensors_tutorial():
    ours, theirs = _both(_tutorial)
    assert ours == theirs
    assert ours[1] == (True, True, "MyQuantizedLinearWeight")
    np.testing.assert_allclose(ours[-1][0], np.arange(15.0).reshape(5, 3) / 4)


@pytest.mark.parametrize(
    "expr",
    [
        lambda t: 2 - t,
        lambda t: 2.5 - t.double(),
        lambda t: 2**t,
        lambda t: t**2,
        lambda t: 1 / t,
        lambda t: t - 2,
        lambda t: t ** t.detach(),
    ],
)
def test_scalar_operand_nodes_have_pytorch_edges(expr):
    """PyTorch's ``2 - t`` is one RsubBackward1 node with one edge (the number is a Scalar
    argument), ``2 ** t`` one PowBackward2; ``t - 2`` wraps the number, keeping its edge."""

    def graph(lib):
        def walk(fn):
            return None if fn is None else (fn.name(), [walk(f) for f, _ in fn.next_functions])

        t = lib.tensor([1.0, 2.0], requires_grad=True)
        y = expr(t)
        y.sum().backward()
        return walk(y.grad_fn), t.grad.tolist()

    ours, theirs = _both(graph)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)


def test_conversion_poisons_only_the_old_graph():
    """A parameter held only by its AccumulateGrad (``w + 1`` saves nothing) is swapped; the
    old graph's backward raises, a new forward after the conversion trains normally."""

    def run(lib):
        lib.__future__.set_swap_module_params_on_conversion(True)
        m = lib.nn.Module()
        m.w = lib.nn.Parameter(lib.ones(2))
        old = (m.w + 1).sum()
        m.double()
        (m.w * 3).sum().backward()
        with pytest.raises(RuntimeError, match="AccumulateGrad node that was poisoned"):
            old.backward()
        return m.w.grad.tolist(), _dtype(m.w.grad)

    ours, theirs = _both(run)
    assert ours == theirs == ([3.0, 3.0], "float64")
