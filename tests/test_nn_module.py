"""The Module system: registration, traversal, modes, state dicts, devices, hooks, repr, summary."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
from minigrad.testing.fake_device import HostTransfers


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 8)
        self.scale = nn.Parameter(minigrad.ones(8))
        self.register_buffer("steps", minigrad.zeros(1))
        self.register_buffer("cache", minigrad.zeros(2), persistent=False)
        self.norm = nn.LayerNorm(8)

    def forward(self, x):
        return self.norm(self.fc(x) * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.block(x).relu())


def test_registration_order_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "block.scale",
        "block.fc.weight",
        "block.fc.bias",
        "block.norm.weight",
        "block.norm.bias",
        "head.weight",
        "head.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == ["block.steps", "block.cache"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.norm", "head"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert list(net.state_dict()) == [
        "block.scale",
        "block.steps",
        "block.fc.weight",
        "block.fc.bias",
        "block.norm.weight",
        "block.norm.bias",
        "head.weight",
        "head.bias",
    ]
    assert [n for n, _ in net.named_parameters(prefix="model", recurse=False)] == []
    assert [n for n, _ in net.block.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3
    assert [n for n, _ in model.named_parameters(remove_duplicate=False)] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_setattr_semantics():
    m = nn.Linear(2, 3)
    with pytest.raises(
        TypeError, match="cannot assign 'minigrad.FloatTensor' as parameter 'weight'"
    ):
        m.weight = minigrad.zeros(3, 2)
    m.bias = None
    assert m.bias is None and "bias" in m._parameters
    m.extra = nn.ReLU()
    assert "extra" in m._modules
    m.extra = nn.Parameter(minigrad.zeros(1))  # re-registered as a parameter
    assert "extra" not in m._modules and "extra" in m._parameters
    del m.extra
    assert not hasattr(m, "extra")
    m.register_buffer("buf", minigrad.zeros(2))
    m.buf = minigrad.ones(2)
    assert m._buffers["buf"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="as buffer 'buf'"):
        m.buf = 3
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("weight", minigrad.zeros(1))
    with pytest.raises(KeyError, match=r"can\\?'t contain"):  # (a KeyError's repr escapes ')
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="not a Module subclass"):
        m.add_module("x", 3)
    m.b2 = nn.Buffer(minigrad.ones(1), persistent=False)
    assert "b2" in m._buffers and "b2" not in m.state_dict()
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        m.nope  # noqa: B018


def test_assign_before_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minigrad.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_non_leaf_parameter_is_rejected():
    m = nn.Module()
    x = minigrad.ones(2, requires_grad=True)
    p = nn.Parameter(minigrad.ones(2))
    p.grad_fn = (x * 2).grad_fn  # simulate a computed parameter
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("p", p)


def test_parameter_basics():
    p = nn.Parameter(minigrad.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, minigrad.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert type(p * 2) is minigrad.Tensor
    frozen = nn.Parameter(minigrad.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    with pytest.raises(TypeError, match="expects a Tensor"):
        nn.Parameter([1.0])


def test_train_eval_requires_grad_and_apply():
    net = Net()
    assert net.training and net.block.fc.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")
    net.block.requires_grad_(False)
    assert [n for n, p in net.named_parameters() if p.requires_grad] == ["head.weight", "head.bias"]
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "LayerNorm", "Block", "Linear", "Net"]


def test_zero_grad():
    net = Net()
    net(minigrad.randn(2, 4)).sum().backward()
    grads = {n: p.grad for n, p in net.named_parameters()}
    assert all(g is not None for g in grads.values())
    net.zero_grad(set_to_none=False)
    for name, p in net.named_parameters():
        assert p.grad is grads[name] and not p.grad.numpy().any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip():
    a, b = Net(), Net()
    a.block.steps.fill_(7.0)
    state = a.state_dict()
    assert not any(v.requires_grad for v in state.values())
    assert state["head.weight"]._data is a.head.weight._data  # shares storage, detached
    result = b.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    assert b.block.cache.tolist() == [0.0, 0.0]  # non-persistent: not loaded
    assert a.state_dict(keep_vars=True)["head.weight"] is a.head.weight


def test_load_state_dict_strict_errors_list_keys():
    net = Net()
    state = net.state_dict()
    del state["head.bias"]
    state["head.extra"] = minigrad.zeros(1)
    state["block.fc.weight"] = minigrad.zeros(2, 2)
    with pytest.raises(RuntimeError) as info:
        Net().load_state_dict(state)
    text = str(info.value)
    assert text.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "head.bias".' in text
    assert 'Unexpected key(s) in state_dict: "head.extra".' in text
    assert (
        "size mismatch for block.fc.weight: copying a param with shape minigrad.Size([2, 2])"
        in text
    )
    assert "the shape in current model is minigrad.Size([8, 4])" in text  # as torch.Size([8, 4])
    del state["block.fc.weight"]
    state["block.fc.weight"] = net.block.fc.weight.detach()
    missing, unexpected = Net().load_state_dict(state, strict=False)
    assert missing == ["head.bias"] and unexpected == ["head.extra"]


def test_load_state_dict_accepts_numpy_and_assign():
    lin = nn.Linear(2, 2)
    w = np.arange(4, dtype=np.float32).reshape(2, 2)
    lin.load_state_dict({"weight": w, "bias": np.zeros(2, np.float32)})
    assert lin.weight.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    new_w = minigrad.ones(2, 2)
    lin.load_state_dict({"weight": new_w, "bias": minigrad.zeros(2)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight._data is new_w._data
    with pytest.raises(TypeError, match="dict-like"):
        lin.load_state_dict([("weight", new_w)])


def test_to_dtype_keeps_parameter_identity_and_optimizer_works():
    net = Net()
    net(minigrad.randn(3, 4)).sum().backward()
    params = list(net.parameters())
    bn = nn.BatchNorm1d(3)
    opt = minigrad.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    opt.step()
    assert net.double() is net
    assert [p is q for p, q in zip(params, net.parameters())] == [True] * len(params)
    assert all(p.dtype is minigrad.float64 and p.grad.dtype is minigrad.float64 for p in params)
    assert net.block.steps.dtype is minigrad.float64
    bn.to(minigrad.float64)
    assert (
        bn.num_batches_tracked.dtype is minigrad.int64 and bn.running_mean.dtype is minigrad.float64
    )
    opt.zero_grad()
    net(minigrad.randn(3, 4, dtype=minigrad.float64)).sum().backward()
    before = net.head.weight.detach().clone()
    opt.step()
    assert not net.head.weight.allclose(before)
    net.float()
    assert net.head.weight.dtype is minigrad.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(minigrad.int64)


def test_to_device_moves_parameters_grads_and_buffers():
    net = Net()
    net(minigrad.randn(3, 4)).sum().backward()
    weight = net.head.weight
    net.to("fakegpu")
    assert net.head.weight is weight and weight.device.type == "fakegpu"
    assert weight.grad.device.type == "fakegpu"
    assert all(b.device.type == "fakegpu" for b in net.buffers())
    out = net(minigrad.randn(3, 4, device="fakegpu"))
    assert out.device.type == "fakegpu"
    net.cpu()
    assert all(p.device.type == "cpu" for p in net.parameters())
    net.to(minigrad.zeros(1, dtype=minigrad.float64, device="fakegpu"))
    assert net.head.bias.device.type == "fakegpu" and net.head.bias.dtype is minigrad.float64


def test_load_state_dict_across_devices():
    source = Net()
    target = Net().to("fakegpu")
    target.load_state_dict(source.state_dict())
    assert target.head.weight.device.type == "fakegpu"
    np.testing.assert_array_equal(
        target.head.weight.cpu().detach().numpy(), source.head.weight.detach().numpy()
    )


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []

    def pre(module, args):
        calls.append("pre")
        return (args[0] * 0,)

    def post(module, args, output):
        calls.append("post")
        return output + 1

    h1 = lin.register_forward_pre_hook(pre)
    h2 = lin.register_forward_hook(post)
    out = lin(minigrad.ones(1, 2))
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None] + 1, rtol=1e-6)
    h1.remove()
    h2.remove()
    calls.clear()
    lin(minigrad.ones(1, 2))
    assert calls == []


def test_hook_order_kwargs_and_context_manager():
    m = nn.Identity()
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append("first"))
    m.register_forward_hook(lambda mod, a, o: order.append("prepended"), prepend=True)

    def kw_pre(mod, args, kwargs):
        order.append(sorted(kwargs))
        return args, kwargs

    m.register_forward_pre_hook(kw_pre, with_kwargs=True)
    m.forward = lambda x, **kw: x
    m(minigrad.ones(1), flag=True)
    assert order == [["flag"], "prepended", "first"]
    with m.register_forward_hook(lambda mod, a, o: o * 3):
        assert m(minigrad.ones(1)).item() == 3.0
    assert m(minigrad.ones(1)).item() == 1.0


def test_missing_forward():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_repr_matches_pytorch():
    torch = pytest.importorskip("torch")

    def build(nn):
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 8)
                self.norm = nn.LayerNorm(8)
                self.act = nn.GELU(approximate="tanh")
                self.drop = nn.Dropout(0.1)

        misc = [
            nn.LeakyReLU(0.2), nn.ELU(), nn.Softplus(), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1),
            nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.Flatten(), nn.Unflatten(1, (2, 4)),
            nn.GroupNorm(2, 4), nn.BatchNorm2d(3, affine=False), nn.CrossEntropyLoss(),
            nn.MSELoss(), nn.Dropout2d(), nn.Hardtanh(), nn.ReLU6(), nn.Mish(), nn.GLU(),
            nn.Softmin(1), nn.LogSigmoid(), nn.LayerNorm((2, 3), elementwise_affine=False),
        ]  # fmt: skip
        return nn.Sequential(
            OrderedDict(
                block=Block(),
                stack=nn.ModuleList([nn.Linear(8, 8) for _ in range(3)] + [nn.ReLU(inplace=True)]),
                heads=nn.ModuleDict({"a": nn.Linear(8, 2, bias=False), "b": nn.Identity()}),
                bn=nn.BatchNorm1d(8, momentum=None),
                emb=nn.Embedding(10, 3, padding_idx=0),
                misc=nn.Sequential(*misc),
                empty=nn.ModuleList(),
            )
        )

    assert repr(build(nn)) == repr(build(torch.nn))


def test_parameter_list_repr_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.ParameterList([nn.Parameter(minigrad.zeros(2, 3)), minigrad.zeros(4)])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)), torch.zeros(4)])
    assert repr(ours) == repr(theirs).replace("torch.", "minigrad.")


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == [b, c]
    assert list(head._modules) == ["1", "2"]  # slicing keeps the keys, as PyTorch
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    popped = seq.pop(1)
    assert popped is b and list(seq._modules) == ["0", "1", "2"]
    seq.insert(1, b)
    assert seq[1] is b and len(seq) == 4
    seq[3] = nn.Tanh()
    assert isinstance(seq[3], nn.Tanh)
    with pytest.raises(IndexError, match="out of range"):
        seq[10]
    named = nn.Sequential(OrderedDict(fc=a, act=b))
    assert named.fc is a and [n for n, _ in named.named_children()] == ["fc", "act"]
    assert (named + nn.Sequential(c))[2] is c
    x = minigrad.randn(5, 2)
    np.testing.assert_allclose(
        nn.Sequential(a, b, c)(x).detach().numpy(), c(b(a(x))).detach().numpy()
    )


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers += [nn.Sigmoid()]
    assert len(layers) == 6
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    with pytest.raises(NotImplementedError):
        layers(minigrad.ones(1))
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    heads["c"] = nn.ReLU()
    assert list(heads.keys()) == ["a", "b", "c"]
    assert heads.pop("c").__class__ is nn.ReLU
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    heads.update([("d", nn.Tanh())])
    assert isinstance(heads["d"], nn.Tanh)


def test_parameter_list_and_dict():
    plist = nn.ParameterList([minigrad.ones(2), nn.Parameter(minigrad.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in plist)
    assert len(plist) == 2 and [n for n, _ in plist.named_parameters()] == ["0", "1"]
    plist.append(minigrad.ones(1))
    assert plist[-1].shape == (1,)
    pdict = nn.ParameterDict({"w": minigrad.ones(2)})
    pdict["b"] = nn.Parameter(minigrad.zeros(1))
    assert list(pdict) == ["w", "b"] and isinstance(pdict["w"], nn.Parameter)
    holder = nn.Module()
    holder.p = pdict
    assert [n for n, _ in holder.named_parameters()] == ["p.w", "p.b"]


def test_deepcopy():
    net = Net()
    net(minigrad.randn(2, 4)).sum().backward()
    clone = copy.deepcopy(net)
    assert clone.head.weight is not net.head.weight
    assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight.requires_grad
    np.testing.assert_array_equal(
        clone.head.weight.detach().numpy(), net.head.weight.detach().numpy()
    )
    assert clone.head.weight.grad is None  # as PyTorch: a Parameter's deepcopy has no grad
    with minigrad.no_grad():
        clone.head.weight.add_(1.0)
    assert not clone.head.weight.allclose(net.head.weight)
    assert clone.block.steps._data is not net.block.steps._data


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("block.fc") is net.block.fc
    assert net.get_parameter("block.fc.weight") is net.block.fc.weight
    assert net.get_buffer("block.steps") is net.block.steps
    with pytest.raises(AttributeError, match="no attribute `nope`"):
        net.get_submodule("block.nope")


def test_summary_table(capsys):
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    model[0].requires_grad_(False)
    model.train()
    result = model.summary(input_size=(2, 4))
    printed = capsys.readouterr().out
    assert result.total_params == 40 + 16 + 27
    assert result.trainable_params == 16 + 27 and result.frozen_params == 40
    assert [r.output_shape for r in result.rows] == [[2, 3], [2, 8], [2, 8], [2, 8], [2, 3]]
    assert [r.name for r in result.rows] == ["", "0", "1", "2", "3"]
    assert "0 (Linear)" in printed and "Total params: 83" in printed
    assert "Non-trainable (frozen) params: 40" in printed
    assert model.training and model[1].training  # modes restored
    assert model[1].num_batches_tracked.item() == 0  # eval pass: statistics untouched
    assert not model._forward_hooks and not model[0]._forward_pre_hooks


def test_summary_with_example_input_and_shared_layer():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    result = nn.summary(model, minigrad.randn(5, 3), file=False)
    assert [r.params for r in result.rows] == [0, 12, 0, 0]
    assert result.total_params == 12
    assert "Output Shape" in str(result)
    with pytest.raises(ValueError, match="input_size"):
        nn.summary(model, file=False)


def test_training_step_on_device_has_no_host_transfers():
    model = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)
    ).to("fakegpu")
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1)
    x = minigrad.randn(6, 4, device="fakegpu")
    y = minigrad.tensor([0, 1, 2, 0, 1, 2], device="fakegpu")
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    before = HostTransfers.count
    for _ in range(2):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    assert HostTransfers.count == before
    assert np.isfinite(loss.item())


def test_nn_utils():
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(minigrad.arange(8.0), model.parameters())
    assert model.bias.tolist() == [6.0, 7.0]
    with pytest.raises(RuntimeError, match="invalid for input of size 1"):  # too short
        nn.utils.vector_to_parameters(minigrad.arange(7.0), model.parameters())
    model(minigrad.ones(4, 3)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total.item() > 1.0
    assert np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters())) < 1.0 + 1e-5
    nn.utils.clip_grad_value_(model.parameters(), 0.01)
    assert max(np.abs(p.grad.numpy()).max() for p in model.parameters()) <= 0.01


def test_replacing_a_child_keeps_its_place():
    seq = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3))
    seq[0] = nn.Linear(1, 2)
    setattr(seq, "1", nn.Tanh())
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Tanh)
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(layer.weight.detach().clone())
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_summary_takes_input_size_positionally_and_prints_once(capsys, monkeypatch):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
    result = nn.summary(model, (2, 4))
    assert capsys.readouterr().out.count("Total params") == 1
    assert result.rows[1].output_shape == [2, 8]
    assert nn.summary(model, [(3, 4)], file=False).rows[1].output_shape == [3, 8]
    # In a REPL the returned object is echoed (its repr is the table): no second copy.
    monkeypatch.setattr("sys.ps1", ">>> ", raising=False)
    nn.summary(model, (2, 4))
    assert capsys.readouterr().out == ""


def _full_backward_hook_log(lib):
    """The calls full backward hooks see on a two-input, two-output module, in ``lib``."""
    nn_ = lib.nn

    class Block(nn_.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn_.Linear(2, 2)

        def forward(self, x, k, y):
            return self.lin(x) * k + y, y * 2

    lib.manual_seed(0)
    block = Block()
    with lib.no_grad():
        block.lin.weight.copy_(lib.tensor([[1.0, -2.0], [0.5, 3.0]]))
    log = []

    def shapes(grads):
        return [None if g is None else g.tolist() for g in grads]

    block.register_full_backward_pre_hook(lambda m, go: log.append(("pre", shapes(go))))
    block.register_full_backward_hook(
        lambda m, gi, go: log.append(("full", shapes(gi), shapes(go)))
    )
    x = lib.ones(1, 2, requires_grad=True)
    y = lib.ones(1, 2, requires_grad=True)
    a, b = block(x, 3, y)
    (a * lib.tensor([[1.0, 2.0]])).sum().backward()
    grads = (x.grad.tolist(), y.grad.tolist(), block.lin.weight.grad.tolist())
    # a hook's return value replaces the gradient
    block2 = nn_.Linear(2, 2)
    block2.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
    block2.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    z = lib.ones(1, 2, requires_grad=True)
    block2(z).sum().backward()
    replaced = [round(v, 4) for v in (z.grad / block2.weight.sum(0)).flatten().tolist()]
    replaced = replaced, block2.bias.grad.tolist()
    return log, grads, replaced


def test_full_backward_hooks_match_torch():
    torch = pytest.importorskip("torch")
    assert _full_backward_hook_log(minigrad) == _full_backward_hook_log(torch)


def test_full_backward_hook_without_input_grads_and_hook_kinds_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (torch, minigrad):
        seen = []
        layer = lib.nn.Linear(2, 3)
        handle = layer.register_full_backward_hook(
            lambda m, gi, go, seen=seen: seen.append((gi, tuple(go[0].shape)))
        )
        with pytest.warns(UserWarning, match="no inputs require gradients"):
            layer(lib.ones(4, 2)).sum().backward()
        assert seen == [((None,), (4, 3))]
        handle.remove()
        layer(lib.ones(4, 2, requires_grad=True)).sum().backward()
        assert len(seen) == 1  # removed
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
            layer.register_backward_hook(lambda *a: None)  # even after removal
        with lib.no_grad():
            layer.register_full_backward_hook(lambda *a, seen=seen: seen.append(1))
            layer(lib.ones(1, 2, requires_grad=True))  # no graph: no hook
        assert len(seen) == 1


def test_set_submodule_and_type_match_torch():
    torch = pytest.importorskip("torch")
    reprs, dtypes_seen = [], []
    for lib in (torch, minigrad):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        model.type(lib.float64)  # every tensor, integer buffers too
        dtypes_seen.append([str(t.dtype).split(".")[1] for t in model.state_dict().values()])
        model.set_submodule("1", lib.nn.ReLU())
        model.set_submodule("extra", lib.nn.Tanh())
        reprs.append(repr(model))
        with pytest.raises(AttributeError, match="has no attribute `2`"):
            model.set_submodule("2.x", lib.nn.ReLU())
        with pytest.raises(ValueError, match="is not an nn.Module"):
            model.set_submodule("0", 3)
        with pytest.raises(AttributeError, match="has no attribute `new`"):
            model.set_submodule("new", lib.nn.ReLU(), strict=True)
        with pytest.raises(ValueError, match="without a target name"):
            model.set_submodule("", lib.nn.ReLU())
    assert reprs[0] == reprs[1] and dtypes_seen[0] == dtypes_seen[1]
