"""Op-table rows of nested tensors (branch nested): each row builds a nested tensor from its
dense sample tensors inside the function, so gradcheck perturbs the components, and returns a
dense result (padded, or a component) that PyTorch's same line is compared with."""

from __future__ import annotations

from .samples import OpInfo, Sample, T


def _jagged(m, a, b):
    return m.nested.as_nested_tensor([a, b], layout=m.jagged)


def _rows():
    pair = Sample(T((2, 3)), T((4, 3)))
    return [
        OpInfo(
            "nested_jagged_to_padded",
            lambda m, a, b: (_jagged(m, a, b) * 2.0).sin().to_padded_tensor(0.5),
            [pair],
        ),
        OpInfo(
            "nested_strided_unbind",
            lambda m, a, b: m.nested.as_nested_tensor([a, b]).unbind()[1] * 3.0,
            [Sample(T((2, 3)), T((1, 4)))],
        ),
        OpInfo(
            "nested_jagged_linear",
            lambda m, a, b, w: m.nn.functional.linear(_jagged(m, a, b), w).unbind()[0],
            [Sample(T((2, 3)), T((4, 3)), T((5, 3)))],
        ),
        OpInfo(
            "nested_from_jagged_values",
            lambda m, v: m.nested.nested_tensor_from_jagged(v, m.tensor([0, 1, 4])).exp().values(),
            [Sample(T((4, 2)))],
        ),
    ]


ROWS = _rows()
