"""The edge-sweep mismatches triaged and still open (``--write-known`` of tests/edges_sweep.py
and tests/edges_api.py writes this file over the full sweep). ``KNOWN``: (row, category,
outcome) of the op sweep; most are ops where PyTorch has no integer or bool kernel and minigrad
computes in float, or raises another exception type. ``KNOWN_API``: (case, category, outcome)
of the modules, optimizers and data utilities sweep. They are not deliberate (those are the
``ALLOWED`` tables, each with its reason). The tests fail on any mismatch not listed, so the
lists can only shrink."""

# fmt: off
KNOWN = {
    ('adaptive_avg_pool2d', 'empty', 'm_raises'),
    ('adaptive_avg_pool3d', 'empty', 'm_raises'),
    ('adaptive_max_pool3d', 'empty', 'm_raises'),
    ('addbmm', 'out', 'warning'),
    ('airy_ai_edges', 'dtype', 'values'),
    ('as_strided', 'noncontig', 'missing'),
    ('as_strided_copy', 'noncontig', 'missing'),
    ('as_strided_scatter_forward', 'noncontig', 'missing'),
    ('bessel_j0_edges', 'dtype', 'values'),
    ('bessel_j1_edges', 'dtype', 'values'),
    ('clamp_tensor_both', 'dtype', 'silent'),
    ('clamp_tensor_both', 'promote', 'values'),
    ('csr_addmm', 'promote', 'exc_type'),
    ('csr_mm_csr', 'promote', 'exc_type'),
    ('histc', 'promote', 'values'),
    ('index_add', 'empty', 'exc_type'),
    ('index_fill', 'dtype', 'silent'),
    ('index_fill', 'empty', 'exc_type'),
    ('inplace_on_view', 'promote', 'm_raises'),
    ('inplace_on_view_of_view', 'promote', 'm_raises'),
    ('interpolate', 'dtype', 'missing'),
    ('interpolate_antialias', 'dtype', 'missing'),
    ('linalg_householder_product', 'empty', 'shape'),
    ('nested_from_jagged_values', 'empty', 'm_raises'),
    ('nested_strided_unbind', 'promote', 'm_raises'),
    ('scaled_dot_product_attention', 'empty', 'm_raises'),
    ('searchsorted', 'empty', 'm_raises'),
    ('segment_reduce', 'empty', 'm_raises'),
    ('topk', 'empty', 'm_raises'),
    ('upsample', 'dtype', 'missing'),
    ('upsample_bilinear', 'dtype', 'missing'),
}
KNOWN_API = {
    ('Linear(2.5,3)', 'nn_init', 'exc_message'),
}
