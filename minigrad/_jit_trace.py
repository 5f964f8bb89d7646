""":func:`minigrad.jit.trace` as PyTorch's: the ops run on the example inputs are recorded
(:mod:`minigrad._jit_record`) and the traced object runs that recording, so Python control
flow is frozen at the path the example took; ``check_trace`` traces again and compares."""

from __future__ import annotations

import difflib
import inspect
import threading

from ._warnings import warn_user
from .tensor import Tensor

_state = threading.local()  # .depth: traces running in this thread (jit.is_tracing)
_OUTPUT_KINDS = "Only tensors, lists, tuples of tensors, or dictionary of tensors can be output"
_NONDETERMINISTIC = {
    "rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm",
    "bernoulli", "multinomial", "normal", "poisson", "rrelu", "uniform_", "normal_",
    "bernoulli_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_",
}  # fmt: skip


class TracingCheckError(Exception):
    """Raised by ``check_trace`` when tracing again gives another graph (PyTorch's)."""

    def __init__(self, graph_diff_error, tensor_compare_error, extra_msg=None):
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        if graph_diff_error is not None:
            self.message += "ERROR: Graphs differed across invocations!\n" + graph_diff_error
        if tensor_compare_error is not None:
            self.message += tensor_compare_error
        super().__init__(self.message)


def is_tracing() -> bool:
    return getattr(_state, "depth", 0) > 0


class Recording:
    """One trace: the graph, its generated ``forward`` (``self`` first), the constants it reads
    as attributes of ``self``, the call's signature, and ``modes``: for each layer the graph
    calls whole (``call_module``), the ``training`` flags of it and its submodules when traced,
    which :meth:`run` sets around the call (the trace freezes the mode, as PyTorch's)."""

    def __init__(self, graph, constants: dict, names: list[str], modes: dict | None = None):
        from .fx.graph_module import _compile_forward  # (minigrad.fx loads on first use)

        self.graph, self.constants, self.names = graph, constants, names
        self.modes = modes or {}
        self._lock = threading.RLock()  # (run sets flags: one call at a time)
        code = self.graph.python_code(root_module="self")
        self.code, self.forward = code.src, _compile_forward(code.src, code.globals)

    def run(self, module, *args, **kwargs):
        """The recorded ops on ``module``'s state, its layers in the modes they were traced in."""
        if not self.modes:
            return self.forward(module, *args, **kwargs)
        saved = []
        with self._lock:
            try:
                for target, flags in self.modes.items():
                    for name, sub in module.get_submodule(target).named_modules():
                        saved.append((sub, sub.training))
                        sub.training = flags.get(name, sub.training)
                return self.forward(module, *args, **kwargs)
            finally:
                for sub, flag in reversed(saved):
                    sub.training = flag

    def method(self):
        """:meth:`run` as a method (what a traced module's ``forward`` is)."""
        if not self.modes:
            return self.forward

        def method(module, *args, **kwargs):
            return self.run(module, *args, **kwargs)

        return method

    def same_as(self, other: Recording) -> bool:
        if self.code != other.code or list(self.constants) != list(other.constants):
            return False
        return all(_equal(a, other.constants[k]) for k, a in self.constants.items())

    def nondeterministic(self) -> list:
        """The nodes that draw random numbers (as PyTorch's check, not dropout)."""
        found = []
        for node in self.graph.nodes:
            name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
            if node.op not in ("call_method", "call_function"):
                continue
            if name in _NONDETERMINISTIC:
                found.append(node)
        return found


def _equal(a, b) -> bool:
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        import minigrad

        return a.shape == b.shape and a.dtype == b.dtype and bool(minigrad.equal(a, b))
    return a is b


def _check_input(value, where: str) -> None:
    if isinstance(value, Tensor):
        return
    if isinstance(value, (tuple, list)):
        for v in value:
            _check_input(v, where)
        return
    if isinstance(value, dict):
        for v in value.values():
            _check_input(v, where)
        return
    raise RuntimeError(
        f"jit.trace: {where} holds a {type(value).__name__}, which cannot be traced. Only "
        f"Tensors and (possibly nested) Lists, Dicts, and Tuples of Tensors can be traced"
    )


def _check_output(value, strict: bool) -> None:
    from .jit import TracerWarning

    if isinstance(value, Tensor):
        return
    if isinstance(value, (list, dict)) and strict:
        kind = type(value).__name__
        message = (
            f"Encountering a {kind} at the output of the tracer might cause the trace to be "
            f"incorrect, this is only valid if the container structure does not change based "
            f"on the module's inputs. Consider using a constant container instead (e.g. for "
            f"`list`, use a `tuple` instead. for `dict`, use a `NamedTuple` instead). If you "
            f"absolutely need this and know the side effects, pass strict=False to trace() to "
            f"allow this behavior."
        )
        if kind == "dict":
            raise RuntimeError(message)
        warn_user(message, TracerWarning)
    if isinstance(value, (tuple, list)):
        for v in value:
            _check_output(v, strict)
    elif isinstance(value, dict):
        for v in value.values():
            _check_output(v, strict)
    else:
        raise RuntimeError(
            f"{_OUTPUT_KINDS} from traced functions (jit.trace got a {type(value).__name__})"
        )


def record(fn, root, args: tuple, kwargs: dict, strict: bool, prefix: str = "") -> Recording:
    """Run ``fn(*args, **kwargs)`` once, recording it (``root``: the module whose state
    ``fn`` reads, or None)."""
    from ._jit_record import Recorder, impure, patch_layers, unpatch_layers

    _check_input(args, "example_inputs")
    _check_input(kwargs, "example_kwarg_inputs")
    recorder = Recorder(root, prefix)
    bound = inspect.signature(fn).bind(*args, **kwargs)
    names = []
    for name, value in bound.arguments.items():
        kind = inspect.signature(fn).parameters[name].kind
        values = value if kind is inspect.Parameter.VAR_POSITIONAL else (value,)
        for i, v in enumerate(values):
            names.append(name if kind is not inspect.Parameter.VAR_POSITIONAL else f"{name}_{i}")
            recorder.bind(v, recorder.graph.placeholder(names[-1]))
    patched = patch_layers(recorder, root) if root is not None else []
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        with recorder:
            out = fn(*args, **kwargs)
    finally:
        _state.depth -= 1
        unpatch_layers(patched)
    _check_output(out, strict)
    recorder.graph.output(recorder.arg(out))
    recorder.graph.eliminate_dead_code(impure)
    modes = {}
    for node in recorder.graph.find_nodes(op="call_module"):
        layer = root.get_submodule(node.target)
        modes[node.target] = {name: m.training for name, m in layer.named_modules()}
    return Recording(recorder.graph, recorder.constants, names, modes)


# -- check_trace --------------------------------------------------------------------------------
def _clone(value):
    if isinstance(value, Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, (tuple, list)):
        return type(value)(_clone(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def _leaves(value) -> list:
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _leaves(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    return [value]


def check(rec: Recording, retrace, run_traced, run_python, inputs: list, tolerance: float):
    """PyTorch's trace check, for each ``(args, kwargs)`` of ``inputs``: trace again (another
    graph raises :class:`TracingCheckError`), then compare the traced and the Python outputs
    (a mismatch warns, as does a graph drawing random numbers)."""
    from . import testing
    from .jit import TracerWarning

    for args, kwargs in inputs:
        again = retrace(_clone(args), _clone(kwargs))
        if not rec.same_as(again):
            diff = difflib.ndiff(rec.code.splitlines(True), again.code.splitlines(True))
            text = "\tGraph diff:\n" + "".join("\t\t" + line for line in diff)
            if rec.code == again.code:
                text += "\tThe constants (tensors the trace baked in) differ\n"
            raise TracingCheckError(text, None)
        random_nodes = rec.nondeterministic()
        if random_nodes:
            listed = "".join(f"\t{n.format_node()}\n" for n in random_nodes)
            warn_user(
                f"Trace had nondeterministic nodes. Did you forget call .eval() on your model? "
                f"Nodes:\n{listed}This may cause errors in trace checking. To disable trace "
                f"checking, pass check_trace=False to torch.jit.trace()",
                TracerWarning,
            )
        traced = _leaves(run_traced(*_clone(args), **_clone(kwargs)))
        python = _leaves(run_python(*_clone(args), **_clone(kwargs)))
        for i, (a, b) in enumerate(zip(traced, python)):
            try:
                testing.assert_close(a, b, rtol=tolerance, atol=tolerance, equal_nan=True)
            except AssertionError as error:
                warn_user(
                    f"Output nr {i + 1}. of the traced function does not match the "
                    f"corresponding output of the Python function. Detailed error:\n{error}",
                    TracerWarning,
                )
