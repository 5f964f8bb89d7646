"""Layers against torch.nn with the same weights: outputs, input gradients, parameter gradients
and buffers, in train and eval mode, on every device; default init; errors naming the layer."""

import math

import numpy as np
import pytest
from helpers import to_numpy

import minigrad
import minigrad.nn as nn

torch = pytest.importorskip("torch")

# name: (factory taking an nn module namespace, input shape or "ids", steps)
LAYERS = {
    "linear": (lambda nn: nn.Linear(4, 3), (5, 4)),
    "linear_3d_no_bias": (lambda nn: nn.Linear(4, 3, bias=False), (2, 5, 4)),
    "identity": (lambda nn: nn.Identity(), (3, 4)),
    "flatten": (lambda nn: nn.Flatten(), (2, 3, 4)),
    "unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), (4, 6)),
    "relu": (lambda nn: nn.ReLU(), (3, 4)),
    "relu6": (lambda nn: nn.ReLU6(), (3, 4)),
    "leaky_relu": (lambda nn: nn.LeakyReLU(0.2), (3, 4)),
    "elu": (lambda nn: nn.ELU(alpha=0.7), (3, 4)),
    "gelu": (lambda nn: nn.GELU(), (3, 4)),
    "gelu_tanh": (lambda nn: nn.GELU(approximate="tanh"), (3, 4)),
    "silu": (lambda nn: nn.SiLU(), (3, 4)),
    "mish": (lambda nn: nn.Mish(), (3, 4)),
    "sigmoid": (lambda nn: nn.Sigmoid(), (3, 4)),
    "tanh": (lambda nn: nn.Tanh(), (3, 4)),
    "softplus": (lambda nn: nn.Softplus(beta=2.0, threshold=3.0), (3, 4)),
    "hardtanh": (lambda nn: nn.Hardtanh(-0.5, 0.5), (3, 4)),
    "logsigmoid": (lambda nn: nn.LogSigmoid(), (3, 4)),
    "softsign": (lambda nn: nn.Softsign(), (3, 4)),
    "glu": (lambda nn: nn.GLU(), (3, 4)),
    "softmax": (lambda nn: nn.Softmax(dim=1), (3, 4)),
    "log_softmax": (lambda nn: nn.LogSoftmax(dim=-1), (2, 3, 4)),
    "softmin": (lambda nn: nn.Softmin(dim=0), (3, 4)),
    "batchnorm1d": (lambda nn: nn.BatchNorm1d(3), (6, 3)),
    "batchnorm1d_3d_cumulative": (lambda nn: nn.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    "batchnorm1d_no_affine": (lambda nn: nn.BatchNorm1d(3, affine=False), (6, 3)),
    "batchnorm1d_no_stats": (lambda nn: nn.BatchNorm1d(3, track_running_stats=False), (6, 3)),
    "batchnorm2d": (lambda nn: nn.BatchNorm2d(3, momentum=0.3, eps=1e-3), (4, 3, 2, 2)),
    "layernorm": (lambda nn: nn.LayerNorm(4), (2, 3, 4)),
    "layernorm_2d_no_bias": (lambda nn: nn.LayerNorm((3, 4), bias=False), (2, 3, 4)),
    "layernorm_no_affine": (lambda nn: nn.LayerNorm(4, elementwise_affine=False), (5, 4)),
    "groupnorm": (lambda nn: nn.GroupNorm(2, 4), (3, 4, 5)),
    "embedding": (lambda nn: nn.Embedding(10, 3, padding_idx=1), "ids"),
    "dropout_eval_only": (lambda nn: nn.Dropout(0.3), (3, 4)),
    "mlp": (
        lambda nn: nn.Sequential(
            nn.Linear(4, 8), nn.BatchNorm1d(8), nn.GELU(), nn.LayerNorm(8), nn.Linear(8, 2)
        ),
        (6, 4),
    ),
}
STEPS = 3  # batch norm's running statistics are compared after several steps


def _torch_copy(ours, theirs):
    """Copy every parameter and buffer of the minigrad module into the torch one, by name."""
    state = theirs.state_dict()
    assert list(state) == list(ours.state_dict()), "state dict keys differ from PyTorch's"
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            state[name].copy_(torch.from_numpy(np.array(to_numpy(value))))


def _randomize(module):
    """Give every float parameter non-trivial values (batch norm starts at 1 and 0)."""
    for p in module.parameters():
        nn.init.uniform_(p, -1.0, 1.0)


def _inputs(shape, step, rng):
    if shape == "ids":
        return rng.integers(0, 10, (2, 5)), None
    x = rng.standard_normal(shape).astype(np.float32) * (1.0 + step)
    return x, rng.standard_normal  # grad shape follows the output


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, mode, device):
    factory, shape = LAYERS[name]
    if name.startswith("dropout") and mode == "train":
        pytest.skip("random masks differ between frameworks; see test_dropout_*")
    ours, theirs = factory(nn), factory(torch.nn)
    _randomize(ours)
    _torch_copy(ours, theirs)
    ours.to(device)
    ours.train(mode == "train")
    theirs.train(mode == "train")
    rng = np.random.default_rng(0)
    for step in range(STEPS):
        x, _ = _inputs(shape, step, rng)
        xm = minigrad.tensor(x, device=device)
        xt = torch.tensor(x)
        if shape != "ids":
            xm.requires_grad_()
            xt.requires_grad_()
        ym, yt = ours(xm), theirs(xt)
        np.testing.assert_allclose(to_numpy(ym), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        v = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
        ym.backward(minigrad.tensor(v, device=device))
        yt.backward(torch.tensor(v))
        if shape != "ids":
            np.testing.assert_allclose(to_numpy(xm.grad), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    _compare_state(ours, theirs)


def _compare_state(ours, theirs):
    torch_params = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        np.testing.assert_allclose(
            to_numpy(p.grad), torch_params[pname].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=pname
        )
    torch_buffers = dict(theirs.named_buffers())
    for bname, b in ours.named_buffers():
        np.testing.assert_allclose(
            to_numpy(b), torch_buffers[bname].numpy(), rtol=1e-5, atol=1e-6, err_msg=bname
        )


def test_batchnorm_running_stats_follow_torch_over_steps():
    ours, theirs = nn.BatchNorm1d(4, momentum=0.2), torch.nn.BatchNorm1d(4, momentum=0.2)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = (rng.standard_normal((8, 4)) * 3 + 1).astype(np.float32)
        ours(minigrad.tensor(x))
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)
    assert ours.num_batches_tracked.item() == 5
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(minigrad.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
    )


def test_default_init_follows_pytorch():
    minigrad.manual_seed(0)
    lin = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01  # U(-a, a) has std a/√3
    emb = nn.Embedding(200, 16, padding_idx=3)
    table = emb.weight.detach().numpy()
    assert not table[3].any() and abs(table.std() - 1.0) < 0.05
    bn = nn.BatchNorm2d(3)
    assert bn.weight.tolist() == [1.0] * 3 and bn.bias.tolist() == [0.0] * 3
    assert bn.running_var.tolist() == [1.0] * 3 and bn.num_batches_tracked.dtype is minigrad.int64


def test_factory_kwargs():
    lin = nn.Linear(2, 3, device="fakegpu", dtype=minigrad.float64)
    assert lin.weight.device.type == "fakegpu" and lin.bias.dtype is minigrad.float64
    ln = nn.LayerNorm(4, dtype=minigrad.float64)
    assert ln.weight.dtype is minigrad.float64
    bn = nn.BatchNorm1d(3, device="fakegpu")
    assert (
        bn.running_mean.device.type == "fakegpu" and bn.num_batches_tracked.device.type == "fakegpu"
    )


def test_embedding_from_pretrained_and_padding_gradient(device):
    table = minigrad.randn(5, 3, device=device)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(
        to_numpy(emb(minigrad.tensor([4], device=device))[0]), to_numpy(table[4])
    )
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    trainable(minigrad.tensor([[0, 2, 0]], device=device)).sum().backward()
    grad = to_numpy(trainable.weight.grad)
    assert not grad[0].any() and grad[2].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "layer,x,message",
    [
        (
            nn.Linear(4, 3),
            minigrad.zeros(2, 3),
            r"^mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x3\): Linear\(in_features=4, "
            r"out_features=3, bias=True\) expects input with last dimension 4, got shape \[2, 3\]",
        ),
        (
            nn.BatchNorm1d(3),
            minigrad.zeros(2, 4),
            r"^running_mean should contain 4 elements not 3: BatchNorm1d\(3, .*\) expected input "
            r"of shape \(N, 3\) or \(N, 3, L\), got shape \[2, 4\]",
        ),
        (
            nn.BatchNorm2d(3),
            minigrad.zeros(2, 3),
            r"^expected 4D input \(got 2D input\): BatchNorm2d\(3, .*\) expected input of shape "
            r"\(N, 3, H, W\), got shape \[2, 3\]",
        ),
        (
            nn.LayerNorm(4),
            minigrad.zeros(2, 3),
            r"^Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of "
            r"size\[2, 3\] \(LayerNorm\(\(4,\), .*\) expected input with trailing shape \[4\]",
        ),
        (
            nn.GroupNorm(2, 4),
            minigrad.zeros(2, 6, 3),
            r"^Expected weight to be a vector of size equal to the number of channels in input, "
            r"but got weight of shape \[4\] and input of shape \[2, 6, 3\] \(GroupNorm\(2, 4, .*\) "
            r"expected input of shape \(N, 4, \*\), got shape \[2, 6, 3\]",
        ),
        (
            nn.Embedding(5, 2),
            minigrad.tensor([1, 7]),
            r"index out of range in self \(embedding: index 7 for 5",
        ),
        (nn.Embedding(5, 2), minigrad.tensor([1.0]), r"scalar types: Long, Int"),
    ],
    ids=[
        "linear",
        "batchnorm1d",
        "batchnorm2d",
        "layernorm",
        "groupnorm",
        "emb_range",
        "emb_dtype",
    ],
)
def test_bad_input_names_the_layer(layer, x, message):
    with pytest.raises((RuntimeError, ValueError, IndexError), match=message):
        layer(x)


def test_batchnorm_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(minigrad.zeros(1, 3))
    assert nn.BatchNorm1d(3).eval()(minigrad.zeros(1, 3)).shape == (1, 3)


def test_constructor_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=5)


def test_dropout_train_and_eval(device):
    minigrad.manual_seed(1)
    drop = nn.Dropout(0.25)
    x = minigrad.ones(200, 50, device=device, requires_grad=True)
    y = drop(x)
    values = to_numpy(y)
    kept = values != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(values[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), values)  # d(mask·x)/dx = mask
    assert drop.eval()(x) is x
    minigrad.manual_seed(1)
    np.testing.assert_array_equal(to_numpy(nn.Dropout(0.25)(x)), values)  # reproducible


def test_dropout2d_drops_whole_channels(device):
    minigrad.manual_seed(0)
    y = to_numpy(nn.Dropout2d(0.5)(minigrad.ones(4, 16, 3, 3, device=device)))
    per_channel = y.reshape(4, 16, -1)
    assert all(len(set(row.tolist())) == 1 for row in per_channel.reshape(-1, 9))
    assert 0 < (per_channel[..., 0] == 0).mean() < 1


def test_sync_batch_norm_converts_and_is_batch_norm_in_one_process():
    """convert_sync_batchnorm keeps the very parameters and buffers; without a process group
    of two or more ranks SyncBatchNorm is batch norm (the 2-rank case: tests/dist_checks.py)."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Sequential(nn.BatchNorm1d(2)))
    weight, mean = model[1].weight, model[1].running_mean
    model[2].eval()
    synced = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(synced[1]) is nn.SyncBatchNorm and type(synced[2][0]) is nn.SyncBatchNorm
    assert synced[1].weight is weight and synced[1].running_mean is mean
    assert not synced[2][0].training and synced[1].training
    x = minigrad.randn(2, 4, 5, 5, requires_grad=True)
    plain, sync = nn.BatchNorm2d(4), nn.SyncBatchNorm(4)
    np.testing.assert_array_equal(plain(x).detach().numpy(), sync(x).detach().numpy())
    np.testing.assert_array_equal(plain.running_var.numpy(), sync.running_var.numpy())
    torch = pytest.importorskip("torch")
    assert repr(sync) == repr(torch.nn.SyncBatchNorm(4))
