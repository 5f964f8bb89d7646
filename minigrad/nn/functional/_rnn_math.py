"""The arithmetic of the recurrent cells, written once for arrays and for tensors.

Each function takes a namespace ``ns`` with the few functions it calls (``tanh``, ``relu``,
``join`` along the features, ``stack``): :data:`TENSOR_MATH` for tensors (a graph is
recorded, so higher derivatives flow), or :func:`array_math` of an array module for a plain
backward on the arrays. Everything else is operators arrays and tensors share. The fused cell
ops (:mod:`.rnn`) and the whole-layer op (:mod:`._rnn_sequence`) both use them.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

from ...ops import cat, stack


def sigmoid(ns, x):
    """σ(x) = (1 + tanh(x/2)) / 2: never overflows, for any x."""
    return 0.5 * ns.tanh(0.5 * x) + 0.5


def lstm_activations(ns, gates, c):
    """[i f g o] gate values and tanh(c') from the pre-activations (..., N, 4H) and the cell
    (..., N, H)."""
    size = c.shape[-1]
    i, f, g, o = (gates[..., k * size : (k + 1) * size] for k in range(4))
    i, f, g, o = sigmoid(ns, i), sigmoid(ns, f), ns.tanh(g), sigmoid(ns, o)
    c_new = f * c + i * g
    return i, f, g, o, c_new, ns.tanh(c_new)


def lstm_grads(ns, i, f, g, o, tanh_c, c, grad_h, grad_c):
    """d(gates), d(c) of h' = o·tanh(c'), c' = f·c + i·g."""
    dc = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    d_gates = ns.join(
        [
            dc * g * i * (1 - i),
            dc * c * f * (1 - f),
            dc * i * (1 - g * g),
            grad_h * tanh_c * o * (1 - o),
        ]
    )
    return d_gates, dc * f


def gru_activations(ns, gi, gh, h):
    """r, z, n and h' of the GRU from the input and hidden pre-activations (..., N, 3H)."""
    size = h.shape[-1]
    part = [slice(k * size, (k + 1) * size) for k in range(3)]
    r = sigmoid(ns, gi[..., part[0]] + gh[..., part[0]])
    z = sigmoid(ns, gi[..., part[1]] + gh[..., part[1]])
    n = ns.tanh(gi[..., part[2]] + r * gh[..., part[2]])
    return r, z, n, gh[..., part[2]], (1 - z) * n + z * h


def gru_grads(ns, r, z, n, gh_n, h, grad):
    """d(gi), d(gh), d(h) of h' = (1 - z)·n + z·h, n = tanh(gi_n + r·gh_n)."""
    dn = grad * (1 - z) * (1 - n * n)
    dr = dn * gh_n * r * (1 - r)
    dz = grad * (h - n) * z * (1 - z)
    return ns.join([dr, dz, dn]), ns.join([dr, dz, dn * r]), grad * z


TENSOR_MATH = SimpleNamespace(
    tanh=lambda t: t.tanh(),
    relu=lambda t: t.relu(),
    join=lambda parts: cat(parts, -1),
    stack=stack,
)


@functools.cache
def array_math(xp):
    """The namespace for the arrays of the array module ``xp`` (NumPy or CuPy), made once per
    module: the cells' backward asks for it at every step."""
    return SimpleNamespace(
        tanh=xp.tanh,
        relu=lambda a: xp.maximum(a, 0),
        join=lambda parts: xp.concatenate(parts, -1),
        stack=xp.stack,
    )
