"""The op table on edge inputs against PyTorch: a deterministic sample of tests/edges_sweep.py.

Integer and bool inputs, mixed dtypes with 0-d tensors and Python scalars, empty and 0-d
tensors, non-contiguous views (with gradients), negative and out-of-range dims, in-place forms
and ``out=``: either both frameworks raise (minigrad with PyTorch's exception type), or both
give the same shapes, dtypes and values. A mismatch fails unless it is deliberate
(``edges_sweep.ALLOWED``, with a reason) or triaged and still open (tests/edges_known.py).
The full sweep: ``python tests/edges_sweep.py`` (about a minute and a half).

Its sibling table, tests/edges_api_cases.py, runs whole: nn modules built with bad arguments and
called on wrong inputs, losses on bad targets, optimizers, schedulers and data utilities with
bad arguments. Either both raise (minigrad with PyTorch's exception type and PyTorch's first
line in its message) or both compute the same result with the same warnings
(``python tests/edges_api.py -v``).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import edges_api  # noqa: E402  (tests/ is on the path, as for helpers)
import edges_sweep  # noqa: E402

EVERY = 37  # one case in EVERY: about 600 cases, a few seconds
CASES = edges_sweep.sampled(edges_sweep.cases(), EVERY)


@pytest.mark.parametrize("category", edges_sweep.CATEGORIES)
def test_edge_inputs_match_pytorch(category):
    chosen = [c for c in CASES if c.category == category]
    _, mismatches = edges_sweep.sweep(chosen)
    new = [
        f"{case.id}: [{outcome.kind}] {outcome.detail}"
        for case, outcome in mismatches
        if not edges_sweep.known_open(case, outcome)
    ]
    assert not new, "\n".join(new)


def test_the_sample_covers_every_category():
    counts = {c: sum(case.category == c for case in CASES) for c in edges_sweep.CATEGORIES}
    assert all(n >= 10 for n in counts.values()), counts


@pytest.mark.parametrize("category", edges_api.CATEGORIES)
def test_api_edges_match_pytorch(category):
    _, mismatches = edges_api.sweep(edges_api.cases((category,)))
    new = [
        f"{case.id}: [{outcome.kind}] {outcome.detail}"
        for case, outcome in mismatches
        if not edges_api.known_open(case, outcome)
    ]
    assert not new, "\n".join(new)


def test_every_api_category_has_cases():
    counts = {c: len(edges_api.cases((c,))) for c in edges_api.CATEGORIES}
    assert all(n >= 20 for n in counts.values()), counts
