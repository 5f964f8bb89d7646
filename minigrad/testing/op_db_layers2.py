"""Rows of the op table for the activations and normalizations of branch layers2: CELU, SELU,
the shrinks, hardsigmoid/hardswish, threshold, PReLU, RReLU (eval), the in-place ``F.<name>_``
forms, alpha dropout (identity cases), instance/RMS/local response norm, CrossMapLRN2d."""

from __future__ import annotations

from .samples import KINKS, F, OpInfo, Sample, T


def _call(name, *args, **kwargs):
    return lambda m, x, *rest: getattr(F(m), name)(x, *rest, *args, **kwargs)


def _inplace(name, *args, **kwargs):
    """``F.<name>`` written in place into a copy of the input that is in the graph."""
    return lambda m, x: getattr(F(m), name)(x * 1, *args, **kwargs)


def _activation_samples(away=KINKS, low=-2.0, high=2.0):
    return [
        Sample(T((3, 4), low, high, away=away)),
        Sample(T((), low, high, away=away)),
        Sample(T((4, 3), low, high, transposed=True, away=away)),
        Sample(T((2, 3, 5), low, high, away=away)),
    ]


SHRINK_KINKS = (-0.5, 0.5)
HARD_KINKS = (-3.0, 3.0)
ONES = (-1.0, 1.0)
# (tests/test_leftovers13.py checks PyTorch's error)
NO_DOUBLE_BACKWARD = "PyTorch implements no derivative of hardsigmoid_backward: it raises"


def _cross_map_lrn2d(m, x, *args):
    from minigrad.nn.functional._norm_more import cross_map_lrn2d

    return cross_map_lrn2d(x, *args)


ACTIVATIONS = [
    OpInfo("celu", _call("celu", alpha=1.5), _activation_samples()),
    OpInfo("celu_default", _call("celu"), [Sample(T((3, 4), away=KINKS))]),
    OpInfo("selu", _call("selu"), _activation_samples()),
    OpInfo("hardshrink", _call("hardshrink"), _activation_samples(SHRINK_KINKS)),
    OpInfo("hardshrink_lambd", _call("hardshrink", 1.0), _activation_samples(ONES)),
    OpInfo("softshrink", _call("softshrink"), _activation_samples(SHRINK_KINKS)),
    OpInfo("softshrink_lambd", _call("softshrink", 1.0), _activation_samples(ONES)),
    OpInfo(
        "hardsigmoid",
        _call("hardsigmoid"),
        _activation_samples(HARD_KINKS, -4.5, 4.5),
        gradgrad=False,
        note=NO_DOUBLE_BACKWARD,
    ),
    OpInfo("hardswish", _call("hardswish"), _activation_samples(HARD_KINKS, -4.5, 4.5)),
    OpInfo("tanhshrink", _call("tanhshrink"), _activation_samples(())),
    OpInfo("threshold", _call("threshold", 0.5, -2.0), _activation_samples((0.5,))),
    OpInfo(
        "prelu",
        _call("prelu"),
        [
            Sample(T((2, 3, 4), away=KINKS), T((3,), 0.1, 0.5)),
            Sample(T((2, 3), away=KINKS), T((3,), -0.5, 0.5)),
            Sample(T((2, 3, 2, 2), away=KINKS), T((1,), 0.1, 0.5)),
            Sample(T((4,), away=KINKS), T((), 0.1, 0.5)),
            Sample(T((), away=KINKS), T((1,), 0.1, 0.5)),
        ],
    ),
    OpInfo("rrelu_eval", _call("rrelu", 0.1, 0.3, training=False), _activation_samples()),
    OpInfo("rrelu_eval_default", _call("rrelu"), [Sample(T((3, 4), away=KINKS))]),
]

IN_PLACE = [
    OpInfo("relu_", _inplace("relu_"), _activation_samples()),
    OpInfo("elu_", _inplace("elu_", 1.5), _activation_samples()),
    OpInfo("leaky_relu_", _inplace("leaky_relu_", 0.2), _activation_samples()),
    OpInfo("hardtanh_", _inplace("hardtanh_", -1.0, 1.0), _activation_samples(ONES)),
    OpInfo("selu_", _inplace("selu_"), _activation_samples()),
    OpInfo("celu_", _inplace("celu_", 0.5), _activation_samples()),
    OpInfo("threshold_", _inplace("threshold_", 0.5, -2.0), _activation_samples((0.5,))),
    OpInfo("rrelu_", _inplace("rrelu_", 0.1, 0.3), _activation_samples()),
    OpInfo("selu_inplace", _inplace("selu", inplace=True), [Sample(T((3, 4), away=KINKS))]),
    OpInfo(
        "hardsigmoid_inplace",
        _inplace("hardsigmoid", inplace=True),
        [Sample(T((3, 4), -4.5, 4.5, away=HARD_KINKS))],
        gradgrad=False,
        note=NO_DOUBLE_BACKWARD,
    ),
    OpInfo(
        "hardswish_inplace",
        _inplace("hardswish", inplace=True),
        [Sample(T((3, 4), -4.5, 4.5, away=HARD_KINKS))],
    ),
    OpInfo(
        "alpha_dropout_identity",
        lambda m, x, **kw: F(m).alpha_dropout(x, **kw) * 1,
        [Sample(T((3, 4))), Sample(T((3, 4)), p=0.0, training=True)],
    ),
    OpInfo(
        "feature_alpha_dropout_identity",
        lambda m, x, **kw: F(m).feature_alpha_dropout(x, **kw) * 1,
        [Sample(T((2, 3, 4)), p=0.3), Sample(T((2, 3)), p=0.0, training=True)],
    ),
]

NORMS = [
    OpInfo(
        "instance_norm",
        _call("instance_norm"),
        [
            Sample(T((2, 3, 5))),
            Sample(T((2, 3, 4, 3)), None, None, T((3,)), T((3,))),
            Sample(T((1, 2, 2, 2, 3)), None, None, T((2,))),
        ],
    ),
    OpInfo(
        "instance_norm_eval",
        lambda m, x, rm, rv, w, b: F(m).instance_norm(x, rm, rv, w, b, use_input_stats=False),
        [
            Sample(
                T((2, 3, 4)), T((3,), grad=False), T((3,), 0.5, 2.0, grad=False), T((3,)), T((3,))
            )
        ],
    ),
    OpInfo(
        "instance_norm_running_stats",
        lambda m, x, rm, rv: (F(m).instance_norm(x, rm, rv, momentum=0.3), rm, rv),
        [Sample(T((4, 3, 5)), T((3,), grad=False), T((3,), 0.5, 2.0, grad=False))],
        grad=False,
    ),
    OpInfo(
        "rms_norm",
        lambda m, x, shape, *w, **kw: F(m).rms_norm(x, shape, *w, **kw),
        [
            Sample(T((3, 4)), (4,)),
            Sample(T((2, 3, 4)), (4,), T((4,))),
            Sample(T((2, 3, 4)), (3, 4), T((3, 4)), eps=1e-3),
            Sample(T((4, 3), transposed=True), [3], T((3,)), eps=0.5),
        ],
    ),
    OpInfo(
        "local_response_norm",
        lambda m, x, *args: F(m).local_response_norm(x, *args),
        [
            Sample(T((2, 5, 3)), 3, 0.5, 0.75, 1.0),
            Sample(T((2, 3, 2)), 1),
        ],
    ),
    OpInfo(
        "local_response_norm_nd",
        lambda m, x, *args: F(m).local_response_norm(x, *args),
        [
            Sample(T((2, 6, 3, 2)), 2, 0.3, 0.6, 2.0),
            Sample(T((1, 4, 2, 2, 2)), 5, 0.5, 0.75, 1.5),
        ],
    ),
    OpInfo(
        "cross_map_lrn2d",
        _cross_map_lrn2d,
        [Sample(T((2, 6, 3, 2)), 3, 0.5, 0.75, 1.0), Sample(T((1, 5, 2, 2)), 4, 0.3, 0.6, 2.0)],
        torch=False,
        note="PyTorch's backward is not the derivative of its forward; forward compared in "
        "tests/test_layers2.py",
    ),
]

ROWS = ACTIVATIONS + IN_PLACE + NORMS
