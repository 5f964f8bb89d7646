"""``minigrad.nn`` is laid out as ``torch.nn``: PyTorch class paths resolve to our classes, op
classes never share a name with a Module class, and there is one hook-handle class."""

import importlib
import inspect

import pytest

import minigrad
from minigrad import nn
from minigrad.autograd.graph import Node, is_node_subclass

# PyTorch's paths for classes minigrad has, written out so the test runs without PyTorch.
TORCH_PATHS = {
    "activation": [
        "ELU", "GELU", "GLU", "Hardtanh", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish",
        "MultiheadAttention", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "Softmin",
        "Softplus", "Softsign", "Tanh",
    ],
    "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"],
    "container": ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"],
    "conv": ["Conv1d", "Conv2d"],
    "dropout": ["Dropout", "Dropout1d", "Dropout2d"],
    "flatten": ["Flatten", "Unflatten"],
    "linear": ["Identity", "Linear"],
    "loss": [
        "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss",
        "MSELoss", "NLLLoss", "SmoothL1Loss",
    ],
    "module": ["Module"],
    "normalization": ["GroupNorm", "LayerNorm"],
    "pooling": [
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "MaxPool1d",
        "MaxPool2d",
    ],
    "sparse": ["Embedding"],
    "transformer": ["TransformerEncoder", "TransformerEncoderLayer"],
}  # fmt: skip


@pytest.mark.parametrize(
    "path", [f"{file}.{name}" for file, names in TORCH_PATHS.items() for name in names]
)
def test_pytorch_class_path_is_the_same_class(path):
    file, name = path.split(".")
    module = importlib.import_module(f"minigrad.nn.modules.{file}")
    assert getattr(module, name) is getattr(nn, name)


def test_every_layer_pytorch_has_lives_where_pytorch_keeps_it():
    """For every class ``minigrad.nn`` shares with ``torch.nn``, PyTorch's module path with
    ``torch`` replaced by ``minigrad`` holds the very same class (new layers included)."""
    torch = pytest.importorskip("torch")
    checked = 0
    for name in nn.modules.__all__:
        theirs = getattr(torch.nn, name, None)
        if not inspect.isclass(theirs):
            continue
        module = importlib.import_module(theirs.__module__.replace("torch", "minigrad", 1))
        assert getattr(module, name, None) is getattr(nn, name), f"{theirs.__module__}.{name}"
        checked += 1
    assert checked >= sum(len(v) for v in TORCH_PATHS.values())


def test_non_dynamically_quantizable_linear_is_pytorchs_linear_subclass():
    from minigrad.nn.modules.linear import NonDynamicallyQuantizableLinear

    assert issubclass(NonDynamicallyQuantizableLinear, nn.Linear)
    attention = nn.MultiheadAttention(8, 2)
    assert type(attention.out_proj) is NonDynamicallyQuantizableLinear


def _all_subclasses(cls):
    found, stack = set(), [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in found and not is_node_subclass(sub):  # (recorded nodes' classes)
                found.add(sub)
                stack.append(sub)
    return found


def test_no_op_class_shares_a_name_with_a_module_class():
    # (minigrad.vision's transforms keep torchvision's names, Pad among them)
    modules = {
        c.__name__ for c in _all_subclasses(nn.Module) if c.__module__.startswith("minigrad.nn")
    }
    modules.add("Module")
    ops = {c.__name__ for c in _all_subclasses(Node)}
    assert not (ops & modules)


def test_op_labels_stay_readable():
    x = minigrad.randn(3, requires_grad=True)
    assert x.relu().grad_fn.name() == "ReluBackward0"  # PyTorch's grad_fn name
    assert type(x.relu().grad_fn).label() == "ReLU"  # the op's own label (forward errors, viz)
    w = minigrad.randn(2, 3)
    assert nn.functional.linear(x.reshape(1, 3), w).grad_fn.name() == "MmBackward0"
    assert nn.functional.linear(x.reshape(1, 3), w).grad_fn.label() == "Linear"


def test_one_removable_handle_class():
    from minigrad.utils.hooks import RemovableHandle

    assert nn.RemovableHandle is RemovableHandle
    x = minigrad.randn(3, requires_grad=True)
    seen = []
    handle = x.register_hook(seen.append)
    assert type(handle) is RemovableHandle
    y = (x * 2).sum()
    node_handle = y.grad_fn.register_prehook(lambda g: None)
    assert type(node_handle) is RemovableHandle
    handle.remove()
    y.backward()
    assert seen == []
    layer = nn.Linear(3, 3)
    assert type(layer.register_forward_hook(lambda *a: None)) is RemovableHandle
