"""FX graph mode quantization, as ``torch.ao.quantization.quantize_fx``: ``prepare_fx`` traces a
model with :mod:`minigrad.fx`, fuses conv-bn(-relu), conv-relu, linear-relu and add-relu, and
inserts observers where PyTorch's x86/FBGEMM flow puts them; ``convert_fx`` turns the calibrated
graph into one running quantized modules and quantized functions.

Observer placement follows PyTorch's: a quantized op (Linear, Conv, their fused forms,
BatchNorm2d, LayerNorm, InstanceNorm, Hardswish, ELU, LeakyReLU, add or mul of two tensors)
gets observed inputs and an observer on its output; an op that keeps its input's grid (relu,
``minigrad.flatten``, reshapes, pooling, dropout, cat) gets an observer on its output that is
its input's own observer (one instance, shared); cat makes the observers of all its inputs
one; sigmoid and tanh get PyTorch's fixed qparams. Anything else stays float: ``convert_fx``
dequantizes its quantized inputs (and quantizes the outputs a quantized op reads). The
common patterns only: the ones above, in eval (``prepare_fx``) or training
(``prepare_qat_fx``) mode, with activation qconfigs that quantize to quint8; a module called
at more than one place is refused.
"""

from __future__ import annotations

import copy
import operator

from ... import _quantized, dtypes, nn
from ...fx import GraphModule, Node, symbolic_trace
from ..nn import intrinsic as nni
from ..nn import qat as nnqat
from ..nn import quantized as nnq
from ..nn.intrinsic import qat as nniqat
from ..nn.intrinsic import quantized as nniq
from .fake_quantize import FixedQParamsFakeQuantize
from .fuse_modules import DEFAULT_OP_LIST_TO_FUSER_METHOD
from .observer import FixedQParamsObserver
from .qconfig_mapping import QConfigMapping
from .quantization_mappings import get_default_qat_module_mappings
from .utils import deprecated_entry_point

_OBSERVER_PREFIX = "activation_post_process_"
_META = "minigrad_qconfig"  # node.meta key: the node's qconfig (copied with the graph)

# module types converted to a quantized module (their output has an observer of its own)
_QUANTIZED_MODULES = {
    nn.Linear: nnq.Linear, nn.Conv1d: nnq.Conv1d, nn.Conv2d: nnq.Conv2d, nn.Conv3d: nnq.Conv3d,
    nni.LinearReLU: nniq.LinearReLU, nni.ConvReLU2d: nniq.ConvReLU2d,
    nn.BatchNorm2d: nnq.BatchNorm2d, nn.Hardswish: nnq.Hardswish, nn.ELU: nnq.ELU,
    nn.LeakyReLU: nnq.LeakyReLU, nn.LayerNorm: nnq.LayerNorm,
    nn.InstanceNorm1d: nnq.InstanceNorm1d, nn.InstanceNorm2d: nnq.InstanceNorm2d,
    nn.InstanceNorm3d: nnq.InstanceNorm3d,
    nnqat.Linear: nnq.Linear, nnqat.Conv2d: nnq.Conv2d, nniqat.LinearReLU: nniq.LinearReLU,
    nniqat.ConvReLU2d: nniq.ConvReLU2d, nniqat.ConvBn2d: nnq.Conv2d,
    nniqat.ConvBnReLU2d: nniq.ConvReLU2d,
}  # fmt: skip
# ops whose output stays on the input's grid: they share their input's observer
_SHARING_MODULES = (
    nn.ReLU, nn.MaxPool1d, nn.MaxPool2d, nn.AdaptiveAvgPool2d, nn.AvgPool2d, nn.Identity,
    nn.Dropout,
)  # fmt: skip
_SHARING_FUNCTIONS = {"relu", "flatten", "max_pool2d", "adaptive_avg_pool2d", "avg_pool2d", "cat"}
_SHARING_METHODS = {
    "relu", "view", "reshape", "permute", "transpose", "contiguous", "squeeze", "unsqueeze",
}  # fmt: skip
# ops with an output range of their own: fixed qparams (scale, zero point), as PyTorch's
_FIXED_QPARAMS = {"sigmoid": (1.0 / 256.0, 0), "tanh": (2.0 / 256.0, 128)}
_FIXED_MODULES = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
# what PyTorch's x86 config quantizes and minigrad's FX flow does not (yet): refused by name
_REFUSED_MODULES = (
    nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.ReLU6, nn.Hardtanh,
    nn.Softmax, nn.Hardsigmoid, nn.PReLU, nn.BatchNorm3d, nn.LSTM, nn.GRU,
    nn.MultiheadAttention,
)  # fmt: skip
_REFUSED_FUNCTIONS = {
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "hardtanh", "relu6", "softmax", "hardsigmoid", "hardswish",
    "layer_norm", "elu", "leaky_relu", "instance_norm", "batch_norm", "mean", "clamp",
}  # fmt: skip
_FUSIONS = [  # module types along a chain (ReLU: the module, the function or the method)
    (nn.Conv2d, nn.BatchNorm2d, nn.ReLU),
    (nn.Conv2d, nn.BatchNorm2d),
    (nn.Conv2d, nn.ReLU),
    (nn.Linear, nn.ReLU),
    (nn.Linear, nn.BatchNorm1d),
]


def _is_minigrad_function(target, names) -> bool:
    module = getattr(target, "__module__", "") or ""
    return getattr(target, "__name__", None) in names and (
        module.startswith("minigrad") or module in ("_operator", "operator")
    )


def _module(gm, node):
    return gm.get_submodule(node.target) if node.op == "call_module" else None


def _is_relu(gm, node) -> bool:
    if node.op == "call_module":
        return type(_module(gm, node)) is nn.ReLU
    if node.op == "call_function":
        return _is_minigrad_function(node.target, {"relu"})
    return node.op == "call_method" and node.target == "relu"


def _is_add(node) -> bool:
    """Whether ``node`` adds or multiplies two tensors (quantized add/mul, fused with a relu
    after it)."""
    if node.op != "call_function" or not (
        node.target in (operator.add, operator.mul)
        or _is_minigrad_function(node.target, {"add", "mul"})
    ):
        return False
    tensors = [a for a in node.args[:2] if isinstance(a, Node)]
    return len(node.args) == 2 and not node.kwargs and len(tensors) == 2


def _is_sharing(gm, node) -> bool:
    if node.op == "call_module":
        return isinstance(_module(gm, node), _SHARING_MODULES)
    if node.op == "call_function":
        return _is_minigrad_function(node.target, _SHARING_FUNCTIONS)
    return node.op == "call_method" and node.target in _SHARING_METHODS


def _fixed_qparams(gm, node):
    """(scale, zero point) of a sigmoid/tanh node (module, function or method), else None."""
    if node.op == "call_module":
        name = _FIXED_MODULES.get(type(_module(gm, node)))
    elif node.op == "call_function":
        name = node.target.__name__ if _is_minigrad_function(node.target, _FIXED_QPARAMS) else None
    else:
        name = node.target if node.op == "call_method" else None
    return _FIXED_QPARAMS.get(name)


def _fixed_observer(scale: float, zero_point: int, is_qat: bool):
    """The observer of an op whose output range is fixed (sigmoid, tanh): eager mode's
    ``FixedQParamsObserver``, inside a ``FixedQParamsFakeQuantize`` for QAT, as PyTorch's."""
    observer = FixedQParamsObserver.with_args(scale=scale, zero_point=zero_point)
    return FixedQParamsFakeQuantize(observer) if is_qat else observer()


def _is_observer(node) -> bool:
    return node.op == "call_module" and node.target.startswith(_OBSERVER_PREFIX)


def _only_user(node):
    users = list(node.users)
    return users[0] if len(users) == 1 else None


def _object_type(gm, node):
    if node.op == "call_module":
        return type(_module(gm, node))
    return node.target


def _set_module(gm, name: str, module) -> None:
    parent, _, leaf = name.rpartition(".")
    setattr(gm.get_submodule(parent) if parent else gm, leaf, module)


# -- prepare --------------------------------------------------------------------------------------
def _fuse(gm, is_qat: bool) -> None:
    """Fuse module chains (conv-bn-relu, conv-bn, conv-relu, linear-relu) into one module at
    the first one's name, as PyTorch's ``_fuse_fx``."""
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or node.graph is None:
            continue
        for types in _FUSIONS:
            chain = _chain(gm, node, types)
            if chain is None:
                continue
            modules = [_module(gm, n) if n.op == "call_module" else None for n in chain]
            # a functional relu becomes a module in the chain's mode (fusers compare modes)
            modules = [nn.ReLU().train(modules[0].training) if m is None else m for m in modules]
            fuser = DEFAULT_OP_LIST_TO_FUSER_METHOD[types]
            _set_module(gm, node.target, fuser(is_qat, *modules))
            for later in reversed(chain[1:]):
                later.replace_all_uses_with(node)
                gm.graph.erase_node(later)
            break


def _chain(gm, node, types):
    """The nodes ``node`` → its only user → ... matching ``types`` (the last may be any relu)."""
    chain, current = [node], node
    if type(_module(gm, node)) is not types[0]:
        return None
    for kind in types[1:]:
        current = _only_user(current)
        if current is None:
            return None
        if kind is nn.ReLU:
            if not _is_relu(gm, current):
                return None
        elif current.op != "call_module" or type(_module(gm, current)) is not kind:
            return None
        chain.append(current)
    return chain


def _swap_qat(gm, qconfigs) -> None:
    mapping = get_default_qat_module_mappings()
    for node in gm.graph.nodes:
        module = _module(gm, node)
        qconfig = qconfigs.get(node.name)
        if module is None or qconfig is None or type(module) not in mapping:
            continue
        module.qconfig = qconfig
        _set_module(gm, node.target, mapping[type(module)].from_float(module))


def _qconfigs(gm, mapping: QConfigMapping) -> dict:
    """Each call node's qconfig (by node name)."""
    found = {}
    for node in gm.graph.nodes:
        if node.op in ("call_module", "call_function", "call_method"):
            scope = node.target if node.op == "call_module" else None
            found[node.name] = mapping.qconfig_for(scope, _object_type(gm, node))
    return found


class _Observers:
    """Inserts observer nodes ``activation_post_process_<n>``, numbered in insertion order; a
    shared one calls the module of the observer it shares."""

    def __init__(self, gm):
        self.gm, self.count, self.of = gm, 0, {}

    def _node(self, after, target: str | None, qconfig=None, module=None):
        name = f"{_OBSERVER_PREFIX}{self.count}"
        self.count += 1
        if target is None:
            self.gm.add_submodule(name, module if module is not None else qconfig.activation())
            target = name
        with self.gm.graph.inserting_after(after):
            return self.gm.graph.create_node("call_module", target, (after,), {}, name=name)

    def new(self, after, qconfig, target: str | None = None, module=None):
        """An observer of ``after``'s output for all its users (a new instance, ``module`` if
        given, unless ``target`` names one to share)."""
        obs = self._node(after, target, qconfig, module)
        after.replace_all_uses_with(obs, lambda user: user is not obs)
        self.of[after] = obs
        return obs

    def observed(self, arg, qconfig, consumer):
        """The observer node ``consumer`` reads ``arg`` through (one made if ``arg`` has
        none; other users of ``arg`` keep reading it directly)."""
        if _is_observer(arg):
            return arg
        if arg not in self.of:
            self.of[arg] = self._node(arg, None, qconfig)
        consumer.replace_input_with(arg, self.of[arg])
        return self.of[arg]

    def share(self, observers) -> None:
        """Make every observer node in ``observers`` call the first one's instance."""
        first = observers[0].target
        for obs in observers[1:]:
            old = obs.target
            for node in self.gm.graph.nodes:
                if _is_observer(node) and node.target == old:
                    node.target = first


def _check_qconfig(qconfig, node) -> None:
    activation = qconfig.activation()
    if getattr(activation, "dtype", None) is not dtypes.quint8 or getattr(
        activation, "is_dynamic", False
    ):
        raise NotImplementedError(
            f"prepare_fx: node {node.name}: minigrad's FX quantization takes static quint8 "
            f"activation qconfigs only (got {type(activation).__name__} with dtype "
            f"{getattr(activation, 'dtype', None)})"
        )


def _weight_only(gm, node, qconfig):
    """The quantized class of an Embedding/EmbeddingBag node whose qconfig quantizes its table
    per row with float qparams (``float_qparams_weight_only_qconfig``), else None."""
    module = _module(gm, node)
    target = {nn.Embedding: nnq.Embedding, nn.EmbeddingBag: nnq.EmbeddingBag}.get(type(module))
    if target is None or qconfig is None or qconfig.weight is None:
        return None
    float_qparams = _quantized.per_channel_affine_float_qparams
    return target if getattr(qconfig.weight(), "qscheme", None) is float_qparams else None


def _check_supported(gm, node) -> None:
    """Refuse, by name, the ops PyTorch quantizes that this flow would leave in float."""
    module = _module(gm, node)
    refused = (
        isinstance(module, _REFUSED_MODULES)
        if node.op == "call_module"
        else node.op == "call_function"
        and _is_minigrad_function(node.target, _REFUSED_FUNCTIONS)
        or node.op == "call_method"
        and node.target in ("mean", "clamp")
    )
    if refused:
        what = type(module).__name__ if module is not None else getattr(
            node.target, "__name__", node.target
        )  # fmt: skip
        raise NotImplementedError(
            f"prepare_fx: node {node.name} ({what}): minigrad's FX quantization does not "
            "quantize this op yet (PyTorch does); use the module forms of Linear/Conv/norms/"
            "activations, or set its qconfig to None in the QConfigMapping to keep it in float"
        )
    if type(module) in (nn.Conv1d, nn.Conv3d) and _is_relu(gm, _only_user(node) or node):
        raise NotImplementedError(
            f"prepare_fx: node {node.name}: {type(module).__name__} followed by ReLU (PyTorch "
            "fuses it into ConvReLU1d/3d, which minigrad lacks); keep the ReLU in float or use "
            "Conv2d"
        )


def _check_single_calls(gm, qconfigs) -> None:
    seen = set()
    for node in gm.graph.nodes:
        if node.op != "call_module" or qconfigs.get(node.name) is None:
            continue
        if node.target in seen and type(_module(gm, node)) in _QUANTIZED_MODULES:
            raise NotImplementedError(
                f"prepare_fx: module {node.target!r} is called at more than one place; minigrad "
                "quantizes each module once (give each call its own module)"
            )
        seen.add(node.target)


def _insert_observers(gm, qconfigs, is_qat: bool) -> None:
    _check_single_calls(gm, qconfigs)
    observers = _Observers(gm)
    for node in list(gm.graph.nodes):
        qconfig = qconfigs.get(node.name)
        if qconfig is None or _is_observer(node) or _weight_only(gm, node, qconfig):
            continue  # (an embedding's table is quantized on its own: no observers)
        _check_qconfig(qconfig, node)
        _check_supported(gm, node)
        if _is_add(node) or type(_module(gm, node)) in _QUANTIZED_MODULES:
            inputs = node.args[:2] if _is_add(node) else node.args[:1]
            for arg in inputs:
                observers.observed(arg, qconfig, node)
            relu = _only_user(node) if _is_add(node) else None
            if relu is None or not _is_relu(gm, relu):  # add-relu: the relu's output observed
                observers.new(node, qconfig)
        elif _is_add_tail(gm, node):
            observers.new(node, qconfig)
        elif _fixed_qparams(gm, node) is not None and node.args and isinstance(node.args[0], Node):
            observers.observed(node.args[0], qconfig, node)
            fixed = _fixed_observer(*_fixed_qparams(gm, node), is_qat)
            observers.new(node, qconfig, module=fixed)
        elif _is_sharing(gm, node):
            _observe_sharing(gm, node, qconfig, observers)


def _is_add_tail(gm, node) -> bool:
    source = node.args[0] if node.args else None
    return _is_relu(gm, node) and isinstance(source, Node) and _is_add(source)


def _observe_sharing(gm, node, qconfig, observers) -> None:
    first = node.args[0] if node.args else None
    if isinstance(first, (list, tuple)):  # cat: every input on one shared observer
        inputs = [observers.observed(a, qconfig, node) for a in first]
        observers.share(inputs)
        observers.new(node, qconfig, inputs[0].target)
        return
    if not isinstance(first, Node):
        return
    obs = observers.observed(first, qconfig, node)
    observers.new(node, qconfig, obs.target)


def _prepare(model, qconfig_mapping, is_qat: bool, prepare_custom_config, backend_config):
    if prepare_custom_config is not None or backend_config is not None:
        raise NotImplementedError(
            "prepare_fx: prepare_custom_config and backend_config are not supported"
        )
    if isinstance(qconfig_mapping, dict):
        qconfig_mapping = QConfigMapping.from_dict(qconfig_mapping)
    if not isinstance(qconfig_mapping, QConfigMapping):
        raise TypeError(
            f"prepare_fx: qconfig_mapping must be a QConfigMapping or a dict, got "
            f"{type(qconfig_mapping).__name__}"
        )
    gm = symbolic_trace(copy.deepcopy(model))
    _fuse(gm, is_qat)
    gm.delete_all_unused_submodules()
    qconfigs = _qconfigs(gm, qconfig_mapping)
    if is_qat:
        _swap_qat(gm, qconfigs)
    _insert_observers(gm, qconfigs, is_qat)
    for node in gm.graph.nodes:
        if node.name in qconfigs:
            node.meta[_META] = qconfigs[node.name]
    prepared = GraphModule(gm, gm.graph)  # (named GraphModule, as PyTorch's prepared model)
    prepared.training = gm.training
    return prepared


@deprecated_entry_point
def prepare_fx(model, qconfig_mapping, example_inputs, prepare_custom_config=None,
               _equalization_config=None, backend_config=None):  # fmt: skip
    """Trace ``model`` (in eval mode), fuse it and insert observers, ready for calibration.

    Args:
        model: a float module that :func:`minigrad.fx.symbolic_trace` can trace.
        qconfig_mapping: a :class:`QConfigMapping` (or its dict form).
        example_inputs: a tuple of inputs (as PyTorch's; not needed for tracing here).

    Returns:
        A GraphModule with observers (``activation_post_process_<n>``).

    Example:
        >>> prepared = prepare_fx(model.eval(), get_default_qconfig_mapping("x86"), (x,))
        >>> prepared(calibration_batch)
        >>> quantized = convert_fx(prepared)
    """
    return _prepare(model, qconfig_mapping, False, prepare_custom_config, backend_config)


@deprecated_entry_point
def prepare_qat_fx(model, qconfig_mapping, example_inputs, prepare_custom_config=None,
                   backend_config=None):  # fmt: skip
    """As :func:`prepare_fx` for quantization-aware training: the model in training mode,
    layers swapped for their QAT (fake-quantized) forms, fake-quantize modules as observers."""
    if not model.training:
        raise AssertionError("prepare_qat_fx: the model must be in training mode")
    return _prepare(model, qconfig_mapping, True, prepare_custom_config, backend_config)


# -- convert --------------------------------------------------------------------------------------
def quantized_mul(a, b, scale: float, zero_point: int):
    """``a * b`` of two quantized tensors, requantized (``quantized::mul``)."""
    return _requantized(a.dequantize() * b.dequantize(), scale, zero_point)


def quantized_mul_relu(a, b, scale: float, zero_point: int):
    """``relu(a * b)`` of two quantized tensors, requantized (``quantized::mul_relu``)."""
    return _requantized((a.dequantize() * b.dequantize()).relu(), scale, zero_point)


def quantized_add(a, b, scale: float, zero_point: int):
    """``a + b`` of two quantized tensors, requantized to ``scale``/``zero_point`` (the float
    sum of the dequantized values, as PyTorch's ``quantized::add``)."""
    return _requantized(a.dequantize() + b.dequantize(), scale, zero_point)


def quantized_add_relu(a, b, scale: float, zero_point: int):
    """``relu(a + b)`` of two quantized tensors, requantized (``quantized::add_relu``)."""
    return _requantized((a.dequantize() + b.dequantize()).relu(), scale, zero_point)


def _requantized(values, scale, zero_point):
    return _quantized.quantize_per_tensor(values, scale, zero_point, dtypes.quint8)


class _Converter:
    def __init__(self, gm):
        self.gm, self.graph = gm, gm.graph
        self.qconfigs = {n.name: n.meta[_META] for n in gm.graph.nodes if _META in n.meta}
        self.quantized, self.dequantized = set(), {}

    def qparams(self, obs_node):
        observer = self.gm.get_submodule(obs_node.target)
        scale, zero_point = observer.calculate_qparams()
        return float(scale.item()), int(zero_point.item())

    def output_observer(self, node):
        users = [u for u in node.users if _is_observer(u)]
        return users[0] if users else None

    def run(self) -> None:
        for node in list(self.graph.nodes):
            if node.graph is None:  # erased on the way
                continue
            if _is_observer(node):
                self.observer(node)
            elif node.name in self.qconfigs and self.qconfigs[node.name] is not None:
                self.quantizable(node)
            elif node.op not in ("placeholder", "get_attr"):
                self.float_op(node)

    def observer(self, node) -> None:
        source = node.args[0]
        if source in self.quantized:
            node.replace_all_uses_with(source)
        else:
            scale, zero_point = self.qparams(node)
            with self.graph.inserting_before(node):
                quant = self.graph.call_function(
                    _public_quantize(), (source, scale, zero_point, dtypes.quint8)
                )
            node.replace_all_uses_with(quant)
            self.quantized.add(quant)
        self.graph.erase_node(node)

    def quantizable(self, node) -> None:
        module = _module(self.gm, node)
        weight_only = _weight_only(self.gm, node, self.qconfigs[node.name])
        if weight_only is not None:  # float in and out, the table quantized
            module.qconfig = self.qconfigs[node.name]
            _set_module(self.gm, node.target, weight_only.from_float(module))
            return
        inputs_quantized = all(
            a in self.quantized for a in node.all_input_nodes if a.op != "get_attr"
        )
        if type(module) in _QUANTIZED_MODULES and inputs_quantized:
            self.swap_module(node, module)
        elif _is_add(node) and inputs_quantized:
            self.add(node)
        elif _is_add_tail(self.gm, node) and node.args[0] in self.quantized:
            self.quantized.add(node)  # (made by the add, which replaced it)
        elif _is_sharing(self.gm, node) and inputs_quantized and node.all_input_nodes:
            if type(module) is nn.Dropout:
                _set_module(self.gm, node.target, nnq.Dropout.from_float(module))
            self.quantized.add(node)
        elif _fixed_qparams(self.gm, node) is not None and inputs_quantized:
            self.fixed(node)
        else:
            self.float_op(node)

    def swap_module(self, node, module) -> None:
        obs = self.output_observer(node)
        if obs is None:
            raise NotImplementedError(f"convert_fx: {node.name} has no output observer")
        for part in module.modules():  # (a fused module's first member carries it too)
            part.qconfig = self.qconfigs[node.name]
        module.activation_post_process = self.gm.get_submodule(obs.target)
        target = _QUANTIZED_MODULES[type(module)]
        quantized = target.from_float(module)
        _set_module(self.gm, node.target, quantized)
        self.quantized.add(node)

    def add(self, node) -> None:
        relu = _only_user(node)
        fused = relu is not None and _is_relu(self.gm, relu)
        last = relu if fused else node
        obs = self.output_observer(last)
        scale, zero_point = self.qparams(obs)
        mul = node.target is operator.mul or getattr(node.target, "__name__", "") == "mul"
        fn = (quantized_mul_relu if fused else quantized_mul) if mul else (
            quantized_add_relu if fused else quantized_add
        )  # fmt: skip
        with self.graph.inserting_before(node):
            new = self.graph.call_function(fn, (*node.args, scale, zero_point))
        last.replace_all_uses_with(new)
        if fused:
            self.graph.erase_node(relu)
        self.graph.erase_node(node)
        self.quantized.add(new)

    def fixed(self, node) -> None:
        """sigmoid/tanh of a quantized tensor: computed on its values, quantized to the op's
        fixed qparams (the observer after it then goes: its source is quantized)."""
        self.float_op(node)
        scale, zero_point = _fixed_qparams(self.gm, node)
        with self.graph.inserting_after(node):
            quant = self.graph.call_function(
                _public_quantize(), (node, scale, zero_point, dtypes.quint8)
            )
        node.replace_all_uses_with(quant, lambda user: user is not quant)
        self.quantized.add(quant)

    def float_op(self, node) -> None:
        for arg in node.all_input_nodes:
            if arg in self.quantized:
                node.replace_input_with(arg, self.dequantize(arg))

    def dequantize(self, arg):
        if arg not in self.dequantized:
            with self.graph.inserting_after(arg):
                self.dequantized[arg] = self.graph.call_method("dequantize", (arg,))
        return self.dequantized[arg]


@deprecated_entry_point
def convert_fx(graph_module, convert_custom_config=None, _remove_qconfig=True,
               qconfig_mapping=None, backend_config=None):  # fmt: skip
    """The quantized GraphModule of a prepared and calibrated one (a copy): inputs quantized
    with their observers' qparams, layers swapped for quantized ones, add as quantized add,
    outputs and float ops' inputs dequantized.

    Example:
        >>> quantized = convert_fx(prepared)
        >>> print(quantized.code)
    """
    if convert_custom_config is not None or qconfig_mapping is not None or backend_config:
        raise NotImplementedError(
            "convert_fx: convert_custom_config, qconfig_mapping and backend_config are not "
            "supported"
        )
    if not any(_META in node.meta for node in graph_module.graph.nodes):
        raise AssertionError(
            "convert_fx: the model was not made by prepare_fx/prepare_qat_fx (its nodes carry "
            "their qconfigs in node.meta, which copies keep and pickling drops)"
        )
    gm = copy.deepcopy(graph_module)
    gm.eval()
    _Converter(gm).run()
    gm.graph.eliminate_dead_code()
    gm.delete_all_unused_submodules()
    converted = GraphModule(gm, gm.graph)  # (named GraphModule, as PyTorch's converted model)
    converted.training = gm.training
    return converted


def convert_to_reference_fx(graph_module, *args, **kwargs):
    """Not supported: minigrad has no reference (quantize-dequantize) quantized modules."""
    raise NotImplementedError(
        "convert_to_reference_fx: reference quantized models are not supported"
    )


def fuse_fx(model, fuse_custom_config=None, backend_config=None):
    """Trace ``model`` and fuse conv-bn(-relu), conv-relu and linear-relu chains (eval mode)."""
    gm = symbolic_trace(copy.deepcopy(model))
    _fuse(gm, model.training)
    gm.delete_all_unused_submodules()  # the batch norms folded into convs
    fused = GraphModule(gm, gm.graph)  # (named GraphModule, as PyTorch's fused model)
    fused.training = gm.training
    return fused


__all__ = ["convert_fx", "convert_to_reference_fx", "fuse_fx", "prepare_fx", "prepare_qat_fx"]


def _public_quantize():
    import minigrad

    return minigrad.quantize_per_tensor
