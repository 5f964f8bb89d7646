"""The backward pass: an iterative walk over the graph in topological order.

``backward`` accumulates into the ``.grad`` of leaves; ``grad`` returns the gradients of chosen
inputs and touches no ``.grad``. Both sort the graph without recursion (a 10,000-op chain is
fine), run each node once after all of its consumers, and free saved tensors as they go unless
``retain_graph`` is set. With ``create_graph`` the backward formulas run with grad mode on, so
the gradients are themselves differentiable. Python's cyclic garbage collector is paused while a
backward runs (see :func:`pause_collection`).
"""

from __future__ import annotations

import gc
import threading

import numpy as np

from .._warnings import warn_user, warn_user_once
from . import anomaly, forward_ad, grad_mode, graph
from .graph import AccumulateGrad, accumulate_into, disown, gradient_edge, mark_adoptable


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (``torch.autograd.backward``).

    Args:
        tensors: a tensor or sequence of tensors to differentiate.
        grad_tensors: the upstream gradient of each (None allowed for one-element tensors).
        retain_graph: keep saved tensors for another backward (default: ``create_graph``).
        create_graph: build a graph of the backward pass, for higher-order derivatives.
        inputs: if given, accumulate only into these tensors.
    """
    tensors = _as_tuple(tensors)
    grad_tensors = _make_root_grads(tensors, _as_tuple(grad_tensors, len(tensors)), create_graph)
    retain_graph = create_graph if retain_graph is None else retain_graph
    inputs = None if inputs is None else _input_tuple(inputs)
    if inputs is not None and not inputs:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty")
    if inputs is not None:
        _check_inputs(inputs, "backward")
    if create_graph:
        warn_user_once("backward create_graph", _CREATE_GRAPH_CYCLE)
    _run(tensors, grad_tensors, retain_graph, create_graph, inputs, accumulate=True)


# PyTorch's once-per-process warning for backward(create_graph=True), which accumulates a grad
# that requires grad into .grad: the grad's graph refers back to the tensor holding it.
_CREATE_GRAPH_CYCLE = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using autograd.grad "
    "when creating the graph to avoid this. If you have to use this function, make sure to "
    "reset the .grad fields of your parameters to None after use to break the cycle and avoid "
    "the leak."
)

# Set by minigrad.func.vmap while a vmap runs: ``grad`` with cotangents batched by it (torchjd
# maps ``autograd.grad`` over the rows of a Jacobian) runs as ``is_grads_batched``.
batched_grad_hook = None


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """The gradients of ``outputs`` with respect to ``inputs`` (``torch.autograd.grad``, with
    its argument order).

    Returns a tuple with one tensor per input. An input that the outputs do not depend on is an
    error unless ``allow_unused=True`` (then its entry is None, or zeros with
    ``materialize_grads=True``). ``only_inputs`` is ignored with PyTorch's deprecation warning
    when False. With ``is_grads_batched=True`` the first dim of each ``grad_outputs`` is a batch
    of cotangents: each entry of the result has that batch dim in front (one vector-Jacobian
    product per cotangent, as PyTorch's vmap over the backward gives).

    Example:
        >>> x = minigrad.tensor(3.0, requires_grad=True)
        >>> (dx,) = minigrad.autograd.grad(x ** 3, x, create_graph=True)   # 27
        >>> (ddx,) = minigrad.autograd.grad(dx, x)                         # 18
    """
    outputs = _as_tuple(outputs)
    inputs = _input_tuple(inputs)
    _check_inputs(inputs, "grad")
    if not only_inputs:
        warn_user(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use "
            "minigrad.autograd.backward.",
            UserWarning,
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    if not is_grads_batched and batched_grad_hook is not None and grad_outputs is not None:
        out = batched_grad_hook(
            grad, outputs, inputs, grad_outputs,
            dict(retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=allow_unused, materialize_grads=materialize_grads),
        )  # fmt: skip
        if out is not None:  # cotangents batched by a running vmap
            return out
    if is_grads_batched:
        return _batched_grad(
            outputs,
            inputs,
            grad_outputs,
            retain_graph,
            create_graph,
            allow_unused,
            materialize_grads,
        )
    grad_outputs = _make_root_grads(outputs, _as_tuple(grad_outputs, len(outputs)), create_graph)
    retain_graph = create_graph if retain_graph is None else retain_graph
    results = _run(outputs, grad_outputs, retain_graph, create_graph, inputs, accumulate=False)
    for i, (tensor, result) in enumerate(zip(inputs, results)):
        if result is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                results[i] = tensor.new_zeros(tensor.shape)
    return tuple(results)


# The op layer registers its ``stack`` here at import (this layer cannot import upward), for
# the results of grad(is_grads_batched=True).
stack = None


def _batched_grad(
    outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads
):
    """``grad`` with ``is_grads_batched=True``: one backward per cotangent of the batch, the
    results stacked along a new first dim (None where an input is unused)."""
    cotangents = _as_tuple(grad_outputs, len(outputs))
    if any(c is None for c in cotangents):
        raise RuntimeError("grad: is_grads_batched=True requires grad_outputs for every output")
    sizes = {c.shape[0] if c.ndim else None for c in cotangents}
    if len(sizes) != 1 or None in sizes:
        raise RuntimeError(
            "grad: with is_grads_batched=True every grad_output needs the same batch size in "
            f"its first dim, got shapes {[list(c.shape) for c in cotangents]}"
        )
    (size,) = sizes
    keep = create_graph if retain_graph is None else retain_graph
    rows = [
        grad(
            outputs,
            inputs,
            [c[i] for c in cotangents],
            retain_graph=keep or i < size - 1,
            create_graph=create_graph,
            allow_unused=allow_unused,
            materialize_grads=materialize_grads,
        )
        for i in range(size)
    ]
    return tuple(None if column[0] is None else stack(list(column)) for column in zip(*rows))


def _input_tuple(inputs) -> tuple:
    """``inputs`` as PyTorch takes them: one tensor, or an iterable of them (anything else is
    PyTorch's TypeError, "'int' object is not iterable")."""
    return (inputs,) if isinstance(inputs, graph.Tensor) else tuple(inputs)


def _check_inputs(inputs, op: str) -> None:
    for i, t in enumerate(inputs):
        if not isinstance(t, graph.Tensor):
            raise RuntimeError(
                f"{op}(): all inputs have to be Tensors, but got {type(t).__name__} (input {i})"
            )


def _as_tuple(value, length=None):
    if value is None:
        return (None,) * length if length is not None else ()
    if isinstance(value, (tuple, list)):
        value = tuple(value)
    else:
        value = (value,)
    if length is not None and len(value) != length:
        raise RuntimeError(f"got {len(value)} gradients for {length} outputs; they must match")
    return value


def _make_root_grads(tensors, grads, create_graph):
    roots = []
    for i, (tensor, g) in enumerate(zip(tensors, grads)):
        if not isinstance(tensor, graph.Tensor):
            raise TypeError(f"expected a Tensor to differentiate, got {type(tensor).__name__}")
        if not tensor.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if tensor.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {i} has "
                    f"shape {list(tensor.shape)}: pass gradient= (a tensor of that shape)"
                )
            if tensor._data.dtype.kind == "c":  # a complex number is no loss to descend
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{tensor.dtype}"
                )
            g = _ones_like(tensor)
            if not create_graph:
                roots.append(mark_adoptable(g))  # new, out of the graph: no detach needed
                continue
        elif not isinstance(g, graph.Tensor):
            raise TypeError(f"gradient {i} must be a Tensor, got {type(g).__name__}")
        elif g.shape != tensor.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} and output[{i}] "
                f"has a shape of {list(tensor.shape)}"
            )
        elif g.device is not tensor.device:
            raise RuntimeError(
                f"grad_output[{i}] is on {g.device} but output[{i}] is on {tensor.device}"
            )
        roots.append(g if create_graph else g.detach())
    return roots


def _ones_like(tensor):
    """The implicit gradient of a one-element output: ones of its shape, dtype and device (what
    ``new_ones`` gives, without parsing a size)."""
    dev, data = tensor.device, tensor._data
    if type(data) is not _ndarray or dev.type != "cpu":  # other storage: the general factory
        return tensor.new_ones(tensor.shape)
    ones = np.empty(data.shape, dtype=data.dtype)  # (np.ones is a Python function around
    ones.fill(1)  # these two calls)
    return graph.Tensor._make(ones, dev)


def _topological_order(root_nodes):
    """Every node reachable from the roots, each after all the nodes that feed it gradient.

    The reverse of a depth-first post-order: a node is finished only after everything it
    sends gradient to, so reversed, every node comes before its inputs' nodes. Iterative, so
    a graph of any depth is fine; deterministic, as edges are visited in order. The node being
    expanded and its edge iterator stay in locals (the stack holds only the suspended ones),
    and the bound methods are looked up once: this loop runs once per node of every backward.
    """
    order, visited = [], set()
    finish, mark = order.append, visited.add
    for root in root_nodes:
        if root in visited:
            continue
        mark(root)
        stack = []
        suspend, resume = stack.append, stack.pop
        node, edges = root, iter(root.edges)
        while True:
            for edge in edges:
                if edge is not None:
                    child = edge[0]
                    if child not in visited:
                        mark(child)
                        child_edges = child.edges
                        if child_edges:
                            suspend((node, edges))
                            node, edges = child, iter(child_edges)
                            break
                        finish(child)  # no inputs (a leaf's node): finished at once
            else:
                finish(node)
                if not stack:
                    break
                node, edges = resume()
    order.reverse()
    return order


def _needed_nodes(order, targets):
    """The nodes from which some target node can be reached (only they need to run)."""
    needed = set(targets)
    for node in reversed(order):
        if node not in needed:
            for edge in node.edges:
                if edge is not None and edge[0] in needed:
                    needed.add(node)
                    break
    return needed


# Collection paused by backward passes, counted across threads: the first to start records
# whether the collector was on, the last to finish restores that (a user's gc.disable() stays).
_pause_lock = threading.Lock()
_pauses = [0, False]  # [backward passes running, whether the collector was on before the first]


def pause_collection() -> None:
    """Stop Python's cyclic garbage collector until the matching :func:`resume_collection`.

    A graph is thousands of live objects that the collector would rescan, in full, every few
    thousand allocations a backward makes (a 10k-op backward paid for several full scans of the
    heap); the graph holds no reference cycles (it is freed by reference counting alone), so
    pausing collection while it is walked frees nothing later than it would be.
    """
    with _pause_lock:
        if _pauses[0] == 0:
            _pauses[1] = gc.isenabled()
            gc.disable()
        _pauses[0] += 1


def resume_collection() -> None:
    """End one :func:`pause_collection`; the last one turns the collector back on if it was on."""
    with _pause_lock:
        _pauses[0] -= 1
        if _pauses[0] == 0 and _pauses[1]:
            gc.enable()


class _Tasks(threading.local):
    """The backward passes running in this thread, innermost last (a hook may run another)."""

    def __init__(self):
        self.stack = []


_tasks = _Tasks()


class Task:
    """One running backward pass: what :func:`will_run` asks of it, and the callbacks queued to
    run when it finishes."""

    __slots__ = ("order", "needed", "nodes", "callbacks")

    def __init__(self, order, needed):
        self.order, self.needed, self.nodes, self.callbacks = order, needed, None, None

    def will_run(self, node) -> bool:
        if self.needed is not None:
            return node in self.needed
        if self.nodes is None:  # made on first use: most backward passes never ask
            self.nodes = set(self.order)
        return node in self.nodes


def current_task():
    """The innermost backward pass running in this thread (None outside backward)."""
    stack = _tasks.stack
    return stack[-1] if stack else None


def queue_callback(callback) -> None:
    """Run ``callback()`` when the backward pass now running in this thread finishes
    (``Variable._execution_engine.queue_callback``: DDP and FSDP use it to act once all
    gradients exist); callbacks run in the order queued, and may queue more."""
    task = current_task()
    if task is None:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    if task.callbacks is None:
        task.callbacks = []
    task.callbacks.append(callback)


def current_task_id() -> int:
    """An id of the backward pass running in this thread, -1 outside backward (as
    ``torch._C._current_graph_task_id``)."""
    task = current_task()
    return -1 if task is None else id(task)


class ExecutionEngine:
    """``Variable._execution_engine``: the engine's entry points PyTorch code reaches."""

    queue_callback = staticmethod(queue_callback)


execution_engine = ExecutionEngine()


def _run(roots, root_grads, retain_graph, create_graph, inputs, accumulate):
    pause_collection()
    depth = len(_tasks.stack)
    try:
        results = _walk(roots, root_grads, retain_graph, create_graph, inputs, accumulate)
        if len(_tasks.stack) > depth and _tasks.stack[depth].callbacks:
            callbacks = _tasks.stack[depth].callbacks
            while callbacks:  # (a callback may queue another)
                callbacks.pop(0)()
        return results
    finally:
        del _tasks.stack[depth:]
        resume_collection()


def _walk(roots, root_grads, retain_graph, create_graph, inputs, accumulate):
    edges = [gradient_edge(t) for t in roots]
    order = _topological_order([e[0] for e in edges])
    buffers: dict = {}
    for (node, nr), g in zip(edges, root_grads):
        _add_to_buffer(buffers, node, nr, g)

    captures = needed = None
    results = None
    if inputs is not None:
        captures = {}
        for i, tensor in enumerate(inputs):
            edge = gradient_edge(tensor) if tensor.requires_grad else None
            if edge is None:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}) does not require grad"
                )
            captures.setdefault(edge[0], []).append((i, edge[1], tensor))
        needed = _needed_nodes(order, captures)
        results = [None] * len(inputs)
    _tasks.stack.append(Task(order, needed))

    if captures is None:  # the grad mode switched by hand: a context manager costs µs
        state = grad_mode._state
        previous, state.enabled = state.enabled, bool(create_graph)
        try:
            _walk_all(order, buffers, retain_graph, create_graph, accumulate)
        finally:
            state.enabled = previous
        return results
    with grad_mode.set_grad_enabled(create_graph):
        for node in order:
            if needed is not None and node not in needed:
                continue
            grads = buffers.pop(node, None)
            if grads is None:
                continue
            if node.pre_hooks:
                _run_prehooks(node, grads)
            if captures is not None and node in captures:
                if not accumulate and type(node) is AccumulateGrad and node.variable._hooks:
                    grads[0] = node.run_tensor_hooks(grads[0])  # a leaf's hooks, as PyTorch
                for i, nr, tensor in captures[node]:
                    results[i] = grads[nr]
                    if (
                        accumulate
                        and not isinstance(node, AccumulateGrad)
                        and grads[nr] is not None
                    ):
                        accumulate_into(tensor, grads[nr], create_graph)
            if isinstance(node, AccumulateGrad):
                if accumulate and grads[0] is not None:
                    node.accumulate(grads[0], create_graph)
                if node.post_hooks:
                    _run_posthooks(node, (), grads)
                continue
            if captures is not None and not any(
                e is not None and e[0] in needed for e in node.edges
            ):
                continue
            try:
                _run_node(node, grads, buffers, needed, retain_graph, not create_graph)
            except Exception:
                if anomaly_state.enabled:
                    anomaly.report_failure(node)
                raise
    return results


anomaly_state = anomaly._state  # this thread's anomaly mode (read once per node)
_ndarray = np.ndarray  # (a type test only: see _ones_like)

# While minigrad.profiler records, ``node_hook(node, grads)`` runs each node's ``apply`` (and
# times it); None otherwise (one global lookup per node).
node_hook = None


def _walk_all(order, buffers, retain_graph, create_graph, accumulate) -> None:
    """The walk of :func:`_walk` when every node runs (no ``inputs`` chosen): its loop without
    the per-node tests that only choosing inputs needs."""
    accumulate_cls, plain = AccumulateGrad, not create_graph
    for node in order:
        grads = buffers.pop(node, None)
        if grads is None:
            continue
        if graph.hooked and node.pre_hooks:  # (no hook anywhere yet: no attribute reads)
            _run_prehooks(node, grads)
        if type(node) is accumulate_cls:
            if accumulate and grads[0] is not None:
                node.accumulate(grads[0], create_graph)
            if graph.hooked and node.post_hooks:
                _run_posthooks(node, (), grads)
            continue
        try:
            _run_node(node, grads, buffers, None, retain_graph, plain)
        except Exception:
            if anomaly_state.enabled:
                anomaly.report_failure(node)  # the forward stack, as PyTorch warns it
            raise


def _run_node(node, grads, buffers, needed, retain_graph, plain) -> None:
    """Run one node's backward and pass its input gradients on (into ``buffers``), each
    checked against its input first (shape, dtype, device: the common case inline, the rest
    in ``Node._check``) and, in anomaly mode, for NaN."""
    if len(grads) != 1:  # (a buffer has one entry per output: no read of num_outputs)
        grads = _materialize(node, grads)
    edges = node.edges
    n = len(edges)
    device = getattr(node, "device", None)  # Node.apply's common case inline: the op's device
    if node_hook is None and device is not None and device.index == device.backend.current:
        input_grads = node.backward(*grads)  # is current (a custom Function's node has none)
        if type(input_grads) is not tuple:  # one gradient (a one-input op's backward)
            input_grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
        if len(input_grads) != n:
            node.one_per_input(input_grads)  # (raises, naming the node)
    else:
        input_grads = node.apply(grads) if node_hook is None else node_hook(node, grads)
        if type(input_grads) is not tuple:
            input_grads = tuple(input_grads)
        if len(input_grads) < n:
            n = len(input_grads)
    if graph.hooked and node.post_hooks:  # (results checked: one per gradient, a tuple)
        input_grads = _run_posthooks(node, input_grads, grads)
    metas = node.input_meta
    if len(metas) < n:  # zip's count, without building zip and enumerate objects per node
        n = len(metas)
    tensor_cls, detect = graph.Tensor, anomaly_state.enabled
    for index in range(n):
        g, edge = input_grads[index], edges[index]
        if g is None or edge is None:
            continue
        meta = metas[index]
        if not (
            type(g) is tensor_cls
            and g.device is meta[2]
            and g._data.shape == meta[0]
            and g._data.dtype is meta[1]
        ):
            g = node._check(g, index, meta)
        if detect:
            anomaly.check_gradient(node, index, g)
        target = edge[0]
        if needed is not None and target not in needed:
            continue
        if plain and (g._adoptable or type(target) is AccumulateGrad):
            _settle_ownership(node, g, target, grads, input_grads)
        pending = buffers.get(target)  # _add_to_buffer, inlined: this runs once per edge
        if pending is None and target.num_outputs == 1:
            buffers[target] = [g]
        else:
            _add_to_buffer(buffers, target, edge[1], g, plain)
    if not retain_graph and (node._saved or node._kept is not None):  # (release's own test)
        node.release()


def _settle_ownership(node, grad, target, incoming, results) -> None:
    """Whether a leaf may adopt ``grad`` as its ``.grad`` without a copy (graph.accumulate_into).

    A gradient passed through unchanged or handed to two inputs is no longer the engine's
    alone. A new buffer that a built-in op's backward made for a leaf is: one that is not a
    view and not the array of an incoming gradient or of anything the node saved or kept.
    """
    shared = False  # loops, not generator expressions: this runs once per edge to a leaf
    for g in incoming:
        if grad is g:
            shared = True
            break
    else:
        count = 0
        for r in results:
            if r is grad:
                count += 1
        shared = count > 1
    if shared:
        grad._adoptable = False
    elif not grad._adoptable and node.fresh_results and type(target) is AccumulateGrad:
        data = grad._data  # mark_adoptable's test, without building the list of held arrays
        if data.base is None and not _held(data, incoming, node):
            grad._adoptable = True


def _held(data, incoming, node) -> bool:
    """Whether ``data`` is the array of an incoming gradient or of what ``node`` saved or kept."""
    for g in incoming:
        if g is not None and g._data is data:
            return True
    return node.holds(data)


def _add_to_buffer(buffers, node, nr, grad, plain=False):
    """Add ``grad`` to what output ``nr`` of ``node`` has received. In a plain backward a
    buffer that only the engine holds (``_adoptable``) takes the sum in place, as PyTorch's
    input buffers do: a weight used at every step of a sequence gets one buffer, not one per
    step."""
    grads = buffers.get(node)
    if grads is None:
        grads = buffers[node] = [None] * node.num_outputs
    previous = grads[nr]
    if previous is None:
        grads[nr] = grad
    elif plain and previous._adoptable and not forward_ad.active:  # (tangents add too)
        dev = previous.device
        try:
            if dev.index != dev.backend.current:  # the kernel runs on the buffer's GPU
                with dev.backend.using(dev.index):
                    previous._data += grad._data
            else:
                previous._data += grad._data
        except TypeError:  # a sparse gradient (minigrad.sparse) is added at its indices
            graph.add_sparse_into(previous, grad)
    else:
        try:
            total = grads[nr] = previous + grad
        except RuntimeError:  # sparse + dense, which add refuses in that order (as PyTorch)
            total = grads[nr] = grad + previous
        if not total.requires_grad:  # a new buffer the engine alone holds
            mark_adoptable(total, previous._data, grad._data)


def _run_prehooks(node, grads):
    retains, node_hooks = [], []
    for nr, hook in list(node.pre_hooks.values()):
        if nr is None:
            node_hooks.append(hook)
            continue
        if grads[nr] is None:
            continue
        disown(grads[nr])  # a hook may keep the gradient it sees
        if getattr(hook, "runs_last", False):
            retains.append((nr, hook))
            continue
        result = hook(grads[nr])
        if result is not None:
            grads[nr] = graph.checked_hook_result(hook, grads[nr], result)
    for nr, hook in retains:  # retain_grad sees the gradient after every other hook, as PyTorch
        disown(grads[nr])
        hook(grads[nr])
    for hook in node_hooks:  # Node.register_prehook's hooks: all outputs' gradients at once
        grads[:] = _replaced(node, "pre", grads, hook(tuple(_disowned(grads))))


def _run_posthooks(node, grad_inputs, grad_outputs):
    """Node.register_hook's hooks, ``hook(grad_inputs, grad_outputs)``; each may replace
    ``grad_inputs``."""
    grad_inputs, grad_outputs = tuple(_disowned(grad_inputs)), tuple(grad_outputs)
    for hook in list(node.post_hooks.values()):
        grad_inputs = tuple(_replaced(node, "", grad_inputs, hook(grad_inputs, grad_outputs)))
    return grad_inputs


def _disowned(grads):
    for g in grads:
        if g is not None:
            disown(g)  # a hook may keep the gradient it sees
    return grads


def _replaced(node, kind, grads, result):
    if result is None:
        return list(grads)
    result = list(result) if isinstance(result, (tuple, list)) else [result]
    if len(result) != len(grads):
        raise RuntimeError(
            f"hook registered with {node.name()}.register_{kind}hook returned {len(result)} "
            f"gradients, but {len(grads)} were expected"
        )
    return result


def _materialize(node, grads):
    """Outputs that got no gradient get zeros, for nodes with several outputs."""
    return [
        g if g is not None else _adoptable_or_none(node.zeros_for_output(i))
        for i, g in enumerate(grads)
    ]


def _adoptable_or_none(zeros):
    return None if zeros is None else mark_adoptable(zeros)
