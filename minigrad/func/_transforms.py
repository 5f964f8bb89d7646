"""``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``.

Each transform runs the function on fresh graph nodes for its inputs and differentiates with
the ordinary engine (:func:`minigrad.autograd.grad`); ``jvp`` uses the double-vjp identity
``J·t = d/du ⟨Jᵀu, t⟩``, exact because every op's backward is itself differentiable.

Inside ``vmap`` the engine works on the whole batch at once. An input that is the same for
every sample (a model's weights) is first expanded along each active vmap level (a view, no
copy), so that the gradient of each sample's output stays that sample's: ``vmap(grad(f))``
gives per-sample gradients. Derivatives compose with the outer graph: when an argument
requires grad, when a transform runs inside another, or when the function uses tensors that
require grad, the result is built with ``create_graph=True``.
"""

from __future__ import annotations

import functools
import math
import threading
import weakref

from .. import backend, creation
from ..autograd import engine, forward_ad, grad_mode, graph
from ..autograd import function as _function
from ..autograd.graph import AccumulateGrad
from ._batched import BatchedTensor, DataDependentError, levels_of, make_batched, physical, rewrap
from ._pytree import tree_flatten, tree_unflatten
from ._rules import warn_slow
from .vmap import active_levels, vmap


class _Depth(threading.local):
    def __init__(self):
        self.value = 0


_depth = _Depth()


def inside_transform() -> bool:
    """Whether this thread runs inside a transform (grad, vjp, jvp, jacrev, ..., or vmap)."""
    return _depth.value > 0 or bool(active_levels())


_function.transforms_active = inside_transform


def _batch_all(t, levels):
    """``t`` batched at every level of ``levels`` (outermost first), expanding where it is not."""
    if not levels:
        return t
    level, size = levels[-1]
    if type(t) is BatchedTensor and t._level == level:
        return make_batched(_batch_all(t._value, levels[:-1]), level)
    inner = _batch_all(t, levels[:-1])
    return make_batched(inner.unsqueeze(0).expand((size,) + tuple(inner.shape)), level)


def _tangent_layout(primal, tangent):
    """``tangent`` laid out as ``primal``'s physical tensor (forward AD keeps the tangents of
    batched tensors there): expanded along the vmap levels ``primal`` is batched at, unwrapped."""
    mine = levels_of(primal)
    if not mine:
        return tangent
    theirs = levels_of(tangent)
    if any(level not in mine for level in theirs):
        raise NotImplementedError(
            f"forward AD under vmap: a tangent batched at vmap levels {theirs} for a primal "
            f"batched at levels {mine} (a tangent may only be batched where its primal is)"
        )
    return physical(_batch_all(tangent, [(lv, n) for lv, n in active_levels() if lv in mine]))


forward_ad.register_batching(physical, rewrap, _tangent_layout)


def _prepare(t, name: str):
    """``t`` as an input to differentiate: batched at all active vmap levels, and at the
    bottom a new graph node (a leaf, or an identity over ``t`` if ``t`` already has a graph)."""
    if not isinstance(t, graph.Tensor):
        raise RuntimeError(
            f"{name}: expected the differentiated arguments to be tensors, got {type(t).__name__}"
        )
    if not (t.is_floating_point() or t.is_complex()):
        raise RuntimeError(
            f"{name}: only tensors of floating point or complex dtype can be differentiated, "
            f"got {t.dtype}"
        )
    levels = active_levels()
    if not t.requires_grad and not forward_ad.active and type(t) is not BatchedTensor and levels:
        return _expanded_leaf(t, levels), False
    t = _batch_all(t, levels)
    base = physical(t)
    if base.requires_grad:
        fresh = base.view_as(base)
        outer = True
    else:
        fresh = base.detach().requires_grad_()
        _internal_leaves[id(fresh)] = fresh
        if forward_ad.active:  # a dual input stays dual (forward-over-reverse)
            forward_ad.copy_tangents(base, fresh)
        outer = False
    return rewrap(t, fresh), outer


def _expanded_leaf(t, levels):
    """A constant ``t`` (no graph, no tangent, unbatched) as a new leaf batched at every level
    of ``levels``: one read-only broadcast view of its array, with no ops recorded (what
    :func:`_batch_all` then ``detach`` would give, for the common case of a model's weights)."""
    sizes = tuple(size for _, size in levels)
    dev = t.device
    with backend.on(dev):
        view = dev.xp.broadcast_to(t._data, sizes + t._data.shape)
    leaf = graph.Tensor._make(view, dev, True)
    for level, _ in levels:  # the outermost level's batch is the physical dim 0
        leaf = make_batched(leaf, level)
    return leaf


_internal_leaves = weakref.WeakValueDictionary()  # id -> a leaf made by _prepare, not the user's


def _outside_graph(t):
    """``t`` detached where its graph reaches only leaves the transforms made themselves: at
    the outermost transform nothing can differentiate through those, and PyTorch's result has
    no graph (``torch.func.hessian(f)(x)`` does not require grad unless ``f`` closes over a
    tensor that does)."""
    base = physical(t)
    if base.grad_fn is None or _reaches_other_leaf([base], list(_internal_leaves.values())):
        return t
    return t.detach()


def _reaches_other_leaf(outputs, fresh: list) -> bool:
    """True if the graph of ``outputs`` uses a leaf that requires grad other than ``fresh``
    (a closed-over parameter), so that derivatives must stay differentiable."""
    mine = {id(p) for p in fresh}
    seen, stack = set(), [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            if id(node.variable) not in mine:
                return True
            continue
        for edge in node.edges:
            if edge is not None:
                stack.append(edge[0])
    return False


def _physical_out(out, name: str):
    """The physical tensor of an output, batched at every active level (for the engine)."""
    if not isinstance(out, graph.Tensor):
        raise RuntimeError(
            f"{name}: expected the function to return tensors, got {type(out).__name__}"
        )
    return physical(_batch_all(out, active_levels()))


class _Run:
    """One differentiated call: prepared inputs, the outputs, and whether to create a graph."""

    def __init__(self, func, args, argnums, name: str):
        self.name = name
        self.single = isinstance(argnums, int)
        nums = (argnums,) if self.single else tuple(argnums)
        if not nums:
            raise RuntimeError(f"{name}: argnums must be non-empty")
        for n in nums:
            if not isinstance(n, int) or not -len(args) <= n < len(args):
                raise RuntimeError(
                    f"{name}: Got argnums={argnums}, but only {len(args)} positional inputs"
                )
        self.nums = tuple(n % len(args) for n in nums)
        args = list(args)
        self.specs, self.inputs, outer = [], [], False
        for n in self.nums:
            leaves, spec = tree_flatten(args[n])
            prepared = []
            for leaf in leaves:
                p, o = _prepare(leaf, name)
                prepared.append(p)
                outer = outer or o
            self.specs.append(spec)
            self.inputs.append(prepared)
            args[n] = tree_unflatten(prepared, spec)
        self.args = args
        self.outer = outer

    def flat_inputs(self) -> list:
        return [p for group in self.inputs for p in group]

    def create_graph(self, outputs) -> bool:
        if _depth.value > 0:  # an enclosing transform differentiates these derivatives, and
            return True  # ignores an outer no_grad as PyTorch's (jacfwd(grad(f)) under it)
        if not grad_mode.is_grad_enabled():
            return False
        if self.outer:
            return True
        fresh = [physical(p) for p in self.flat_inputs()]
        return _reaches_other_leaf(outputs, fresh)

    def gradients(self, outputs, cotangents, create_graph: bool, retain_graph: bool):
        """d(outputs)/d(inputs)·cotangents, structured as the differentiated arguments."""
        flat = self.flat_inputs()
        bases = [physical(p) for p in flat]
        grads = engine.grad(
            outputs,
            bases,
            grad_outputs=cotangents,
            retain_graph=retain_graph,
            create_graph=create_graph,
            allow_unused=True,
        )
        out = []
        for p, base, g in zip(flat, bases, grads):
            if g is None:
                g = creation.zeros_like(base)
            elif not create_graph:
                g = g.detach()
            out.append(rewrap(p, g))
        groups, i = [], 0
        for spec, group in zip(self.specs, self.inputs):
            groups.append(tree_unflatten(out[i : i + len(group)], spec))
            i += len(group)
        return groups[0] if self.single else tuple(groups)


def _split_aux(out, has_aux: bool, where: str):
    """``(output, aux)`` of a function's result (aux None without ``has_aux``)."""
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(
            f"{where}: output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    return out


def _call(func, run: _Run):
    _depth.value += 1
    try:
        with grad_mode.enable_grad():
            return func(*run.args)
    finally:
        _depth.value -= 1


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """``func``'s gradient and value: ``grad_and_value(f)(x) == (∇f(x), f(x))``.

    Args:
        func: returns a one-element tensor (or ``(tensor, aux)`` with ``has_aux=True``).
        argnums: which positional argument(s) to differentiate (an int or a tuple); an
            argument may be a tuple/list/dict of tensors (a model's parameters).
        has_aux: ``func`` returns ``(output, aux)``; aux is passed through, not differentiated.

    Returns:
        A function returning ``(gradients, value)``, or ``(gradients, (value, aux))``.

    Example:
        >>> g, v = grad_and_value(lambda x: (x ** 2).sum())(minigrad.tensor([1.0, 2.0]))
        >>> g                                                  # 2x
        tensor([2., 4.])
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        run = _Run(func, args, argnums, "grad_and_value")
        out = _call(lambda *a: func(*a, **kwargs), run)
        out, aux = _split_aux(out, has_aux, "grad_and_value(f)(*args)")
        if not isinstance(out, graph.Tensor):
            raise RuntimeError(
                f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                f"{type(out).__name__}"
            )
        if out.numel() != 1:
            raise RuntimeError(
                f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {out.ndim} dims. Maybe you wanted to use the vjp or jacrev APIs "
                f"instead?"
            )
        if out.is_complex():
            raise RuntimeError(
                f"grad_and_value(f)(*args): Expected f(*args) to return a real scalar Tensor, "
                f"got {out.dtype} (take .real, .abs() or a norm of it)"
            )
        phys = _physical_out(out, "grad_and_value")
        create = run.create_graph([phys])
        if phys.grad_fn is None and not phys.requires_grad:  # does not depend on the inputs
            grads = _zeros_like_inputs(run)
        else:
            ones = creation.ones_like(phys)
            grads = run.gradients([phys], [ones], create, retain_graph=create)
        value = out if create else out.detach()
        return grads, ((value, aux) if has_aux else value)

    return wrapper


def _zeros_like_inputs(run: _Run):
    groups = []
    for spec, group in zip(run.specs, run.inputs):
        groups.append(
            tree_unflatten([rewrap(p, creation.zeros_like(physical(p))) for p in group], spec)
        )
    return groups[0] if run.single else tuple(groups)


def grad(func, argnums=0, has_aux: bool = False):
    """The gradient of a function returning a one-element tensor, as ``torch.func.grad``.

    ``grad(f)(x)`` is ∂f/∂x with x's shape; ``grad(f, argnums=(0, 1))`` gives a tuple;
    ``has_aux=True`` returns ``(gradients, aux)``. Composes with itself (``grad(grad(f))``)
    and with :func:`vmap` (``vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)`` gives
    per-sample gradients).

    Example:
        >>> grad(lambda x: x.sin().sum())(minigrad.tensor([0.0]))    # cos(0)
        tensor([1.])
        >>> grad(grad(lambda x: x ** 3))(minigrad.tensor(2.0))        # 6x
        tensor(12.)
    """
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux: bool = False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` is the tuple of Jᵀ·cotangents,
    one entry per primal (as ``torch.func.vjp``). ``vjp_fn`` may be called many times.

    Example:
        >>> out, vjp_fn = vjp(lambda x: x ** 2, minigrad.tensor([1.0, 3.0]))
        >>> vjp_fn(minigrad.ones(2))
        (tensor([2., 6.]),)
    """
    run = _Run(func, primals, tuple(range(len(primals))), "vjp")
    out = _call(func, run)
    out, aux = _split_aux(out, has_aux, "vjp(f, *primals)")
    flat_out, out_spec = tree_flatten(out)
    phys = [_physical_out(o, "vjp") for o in flat_out]
    create = run.create_graph(phys)
    levels_at_call = active_levels()

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        flat_ct, ct_spec = tree_flatten(cotangents)
        if len(flat_ct) != len(flat_out):
            raise RuntimeError(
                f"vjp_fn: expected cotangents with the structure of the outputs "
                f"({len(flat_out)} tensors), got {len(flat_ct)}"
            )
        cts = []
        for o, c in zip(flat_out, flat_ct):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"vjp_fn: Mismatch in shape: cotangent has shape {list(c.shape)} and output "
                    f"has shape {list(o.shape)}"
                )
            cts.append(physical(_batch_all(c, active_levels())))
        make = create if create_graph is None else create_graph
        used = [(p, c) for p, c in zip(phys, cts) if p.grad_fn is not None or p.requires_grad]
        if not used:
            return tuple(_zeros_like_inputs_all(run))
        new_levels = active_levels()[len(levels_at_call) :]
        if new_levels and active_levels()[: len(levels_at_call)] == levels_at_call:
            return _vjp_in_new_vmap(run, used, len(levels_at_call), new_levels, make)
        grads = run.gradients([p for p, _ in used], [c for _, c in used], make, retain_graph)
        return grads

    result_out = tree_unflatten([o if create else o.detach() for o in flat_out], out_spec)
    return (result_out, vjp_fn, aux) if has_aux else (result_out, vjp_fn)


def _vjp_in_new_vmap(run: _Run, used, n_old: int, new_levels, create_graph: bool):
    """A ``vjp_fn`` called inside vmaps entered after ``vjp`` ran (``vmap(vjp_fn)(basis)``,
    the Jacobian-by-rows idiom): the graph holds no batch dims of those levels, so each of their
    cotangents gets its own backward (``grad(is_grads_batched=True)``), and the stacked
    gradients are batched at the new levels."""
    k = len(new_levels)
    sizes = tuple(size for _, size in new_levels)
    front = tuple(range(k))
    batched = []
    for p, c in used:  # c: (old levels..., new levels..., *p.shape); new levels to the front
        c = c.movedim(tuple(range(n_old, n_old + k)), front)
        batched.append(c.reshape((-1,) + tuple(p.shape)))
    flat = run.flat_inputs()
    bases = [physical(x) for x in flat]
    grads = engine.grad(
        [p for p, _ in used],
        bases,
        grad_outputs=batched,
        retain_graph=True,
        create_graph=create_graph,
        allow_unused=True,
        is_grads_batched=True,
    )
    out = []
    for base, g in zip(bases, grads):
        if g is None:
            g = creation.zeros_like(base).expand((math.prod(sizes),) + tuple(base.shape))
        elif not create_graph:
            g = g.detach()
        g = g.reshape(sizes + tuple(base.shape)).movedim(front, tuple(range(n_old, n_old + k)))
        for level, _ in active_levels():  # outermost level's batch dim first
            g = make_batched(g, level)
        out.append(g)
    groups, i = [], 0
    for spec, group in zip(run.specs, run.inputs):
        groups.append(tree_unflatten(out[i : i + len(group)], spec))
        i += len(group)
    return tuple(groups)


def _zeros_like_inputs_all(run: _Run):
    return [
        tree_unflatten([rewrap(p, creation.zeros_like(physical(p))) for p in group], spec)
        for spec, group in zip(run.specs, run.inputs)
    ]


def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(func(*primals), J·tangents)``: the Jacobian-vector product, as ``torch.func.jvp``,
    by forward mode (:mod:`minigrad.autograd.forward_ad`): one pass of ``func`` on dual tensors.

    ``primals`` and ``tangents`` are tuples of the same structure (tensors, or tuples/lists/dicts
    of tensors). Nests (``jvp`` of ``jvp``), composes with :func:`grad`/:func:`vjp` inside
    (forward-over-reverse: ``jvp(grad(f), (x,), (v,))`` is the Hessian-vector product) and with
    :func:`vmap`. An output that does not depend on the primals gets a zero tangent.

    Example:
        >>> jvp(lambda x: x ** 2, (minigrad.tensor([1.0, 3.0]),), (minigrad.ones(2),))
        (tensor([1., 9.]), tensor([2., 6.]))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples")
    if len(primals) != len(tangents):
        raise RuntimeError(
            f"jvp(f, primals, tangents): Expected primals and tangents to have the same length, "
            f"got {len(primals)} and {len(tangents)}"
        )
    flat_p, spec = tree_flatten(tuple(primals))
    flat_t, t_spec = tree_flatten(tuple(tangents))
    if len(flat_t) != len(flat_p) or t_spec != spec:
        raise RuntimeError("jvp(f, primals, tangents): tangents must have the structure of primals")
    for p, t in zip(flat_p, flat_t):
        for what, x in (("primals", p), ("tangents", t)):
            if not isinstance(x, graph.Tensor) or not (x.is_floating_point() or x.is_complex()):
                raise RuntimeError(
                    f"jvp(f, primals, tangents): Expected {what} to be floating point or "
                    f"complex tensors, "
                    f"got {x.dtype if isinstance(x, graph.Tensor) else type(x).__name__}"
                )
        if tuple(t.shape) != tuple(p.shape):
            raise RuntimeError(
                f"jvp(f, primals, tangents): Expected primals and tangents to have the same "
                f"shape, got {list(p.shape)} and {list(t.shape)}"
            )
    flat_p = [_batched_like_tangent(p, t) for p, t in zip(flat_p, flat_t)]
    with forward_ad._nested_level() as level:
        duals = [forward_ad.make_dual(p, t, level=level) for p, t in zip(flat_p, flat_t)]
        _depth.value += 1  # gradients taken inside stay tensors with tangents (not detached)
        try:
            out = func(*tree_unflatten(duals, spec))
        finally:
            _depth.value -= 1
        out, aux = _split_aux(out, has_aux, "jvp(f, primals, tangents)")
        flat_out, out_spec = tree_flatten(out)
        results = []
        for o in flat_out:
            if not isinstance(o, graph.Tensor):
                raise RuntimeError(
                    f"jvp(f, primals, tangents): expected f to return tensors, got "
                    f"{type(o).__name__}"
                )
            t = forward_ad.tangent_of(o, level)
            results.append(creation.zeros_like(o) if t is None else t)
    if _depth.value == 0:  # the outermost transform: graphs only the transforms made end here
        flat_out = [_outside_graph(o) for o in flat_out]
        results = [_outside_graph(t) for t in results]
    out_value = tree_unflatten(flat_out, out_spec)
    tangent_out = tree_unflatten(results, out_spec)
    return (out_value, tangent_out, aux) if has_aux else (out_value, tangent_out)


def _batched_like_tangent(primal, tangent):
    """``primal`` expanded along the vmap levels its tangent is batched at and it is not (a
    batch of tangents for one primal: ``vmap(lambda v: jvp(f, (x,), (v,)))``), so that the
    tangents lie in the primal's layout."""
    if set(levels_of(tangent)) <= set(levels_of(primal)):
        return primal
    return _batch_all(primal, active_levels())


def _basis(t):
    """The rows of an identity matrix, shaped like ``t`` one by one (a generator)."""
    n = t.numel()
    eye = creation.eye(n, dtype=t.dtype, device=t.device)
    for i in range(n):
        yield eye[i].reshape(t.shape)


def jacrev(func, argnums=0, *, has_aux: bool = False, chunk_size=None):
    """The Jacobian by reverse mode, as ``torch.func.jacrev``: output shape + input shape.

    One vjp per output element, all through one recorded graph. ``argnums`` may be a tuple
    (a tuple of Jacobians per output); outputs may be tuples too.

    Example:
        >>> jacrev(lambda x: x.sin())(minigrad.zeros(3))    # diag(cos 0)
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        primals = [args[n] for n in nums]

        def f(*ps):
            full = list(args)
            for n, p in zip(nums, ps):
                full[n] = p
            return func(*full, **kwargs)

        res = vjp(f, *primals, has_aux=has_aux)
        out, vjp_fn = res[0], res[1]
        flat_out, out_spec = tree_flatten(out)
        per_output = []
        for k, o in enumerate(flat_out):
            rows = []
            for e in _basis(o):
                cts = [e if j == k else creation.zeros_like(x) for j, x in enumerate(flat_out)]
                rows.append(vjp_fn(tree_unflatten(cts, out_spec)))
            jac = []
            for i, p in enumerate(primals):
                leaves_p, spec_p = tree_flatten(p)
                jac_leaves = []
                for li, leaf in enumerate(leaves_p):
                    stacked = _stack([tree_flatten(r[i])[0][li] for r in rows])
                    jac_leaves.append(stacked.reshape(tuple(o.shape) + tuple(leaf.shape)))
                jac.append(tree_unflatten(jac_leaves, spec_p))
            per_output.append(jac[0] if isinstance(argnums, int) else tuple(jac))
        result = tree_unflatten(per_output, out_spec)
        return (result, res[2]) if has_aux else result

    return wrapper


def jacfwd(func, argnums=0, has_aux: bool = False, *, randomness: str = "error"):
    """The Jacobian by forward mode, as ``torch.func.jacfwd``: output shape + input shape.

    As PyTorch's: one :func:`vmap` of the forward-mode :func:`jvp` over the basis vectors of the
    inputs (``func`` runs once; ``randomness`` is vmap's). Where vmap cannot batch ``func`` (an op
    with no batching rule, or a Python value read from the input: ``.item()``, ``bool``), one jvp
    per basis vector instead, with a one-time warning: the same numbers, more slowly.
    Equal to :func:`jacrev`; cheaper when the inputs are fewer than the outputs. ``argnums`` may
    be a tuple and arguments may be tuples/lists/dicts of tensors (a Jacobian per leaf, in the
    same structure). Composes with :func:`vmap` outside it (``vmap(jacfwd(f))``).

    Example:
        >>> jacfwd(lambda x: x ** 2)(minigrad.tensor([1.0, 2.0]))   # diag(2x)
        tensor([[2., 0.],
                [0., 4.]])
    """
    if randomness not in ("error", "same", "different"):
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}"
        )

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        for n in nums:
            if not isinstance(n, int) or not -len(args) <= n < len(args):
                raise RuntimeError(
                    f"jacfwd: Got argnums={argnums}, but only {len(args)} positional inputs"
                )
        primals = tuple(args[n] for n in nums)
        leaves, spec = tree_flatten(primals)
        for k, leaf in enumerate(leaves):  # real basis directions give only d/dx, not d/dz
            if isinstance(leaf, graph.Tensor) and leaf.is_complex():
                raise RuntimeError(
                    f"jacfwd: Expected all inputs to be real but received complex tensor at "
                    f"flattened input idx: {k}"
                )
        sizes = [leaf.numel() for leaf in leaves]
        total = sum(sizes)
        eye = creation.eye(total, dtype=leaves[0].dtype, device=leaves[0].device)
        bases, start = [], 0
        for leaf, size in zip(leaves, sizes):  # the basis vectors of this leaf's slice of R^total
            bases.append(eye[:, start : start + size].reshape((total,) + tuple(leaf.shape)))
            start += size

        def f(*ps):
            full = list(args)
            for n, p in zip(nums, ps):
                full[n] = p
            return func(*full, **kwargs)

        stacked, aux, out_spec = _jvp_columns(f, primals, bases, spec, has_aux, randomness)
        per_output = []
        for t in stacked:  # (total, *out_shape): a block per input leaf
            shape, blocks, start = tuple(t.shape[1:]), [], 0
            for leaf, size in zip(leaves, sizes):
                block = t[start : start + size].movedim(0, -1)
                blocks.append(block.reshape(shape + tuple(leaf.shape)))
                start += size
            groups = tree_unflatten(blocks, spec)
            per_output.append(groups[0] if isinstance(argnums, int) else tuple(groups))
        result = tree_unflatten(per_output, out_spec)
        return (result, aux) if has_aux else result

    return wrapper


def _jvp_columns(f, primals, bases, spec, has_aux: bool, randomness: str):
    """The jvps of ``f`` along every basis vector, stacked (one tensor of shape
    ``(total, *out_shape)`` per output leaf), with the aux and the output spec: as PyTorch, one
    :func:`vmap` of :func:`jvp` over the basis; where an op inside has no batching rule at all
    (NotImplementedError from vmap) or ``func`` reads a Python value from its input (``.item()``,
    ``bool``: vmap batches the primals with the tangents, PyTorch keeps them apart), one jvp per
    basis vector instead (the same numbers), with a one-time warning naming the cause."""

    def column(*tangents):
        res = jvp(f, primals, tree_unflatten(list(tangents), spec), has_aux=has_aux)
        flat, out_spec = tree_flatten(res[1])
        found["spec"] = out_spec
        return (tuple(flat), res[2]) if has_aux else tuple(flat)

    found = {}
    try:
        out = vmap(column, randomness=randomness)(*bases)
    except (NotImplementedError, DataDependentError) as error:
        warn_slow(f"jacfwd runs one jvp per basis vector ({error})")
    else:
        if not has_aux:
            return list(out), None, found["spec"]
        leaves, aux_spec = tree_flatten(out[1])  # (the same for every basis vector: the first)
        return list(out[0]), tree_unflatten([v[0] for v in leaves], aux_spec), found["spec"]
    columns = [column(*(b[i] for b in bases)) for i in range(bases[0].shape[0])]
    flats = [c[0] for c in columns] if has_aux else columns
    flat = [_stack([c[k] for c in flats]) for k in range(len(flats[0]))]
    return flat, (columns[-1][1] if has_aux else None), found["spec"]


def hessian(func, argnums=0):
    """The Hessian, ``jacfwd(jacrev(func))``, as ``torch.func.hessian``.

    Example:
        >>> hessian(lambda x: (x ** 3).sum())(minigrad.tensor([1.0, 2.0]))   # diag(6x)
    """
    return jacfwd(jacrev(func, argnums), argnums)


def _stack(tensors, dim: int = 0):
    from ..ops.joining import stack

    return stack(tensors, dim)
