"""Op-table rows of sparse COO tensors (branch sparse): each row builds a sparse tensor from
its sample values inside the function, so gradcheck perturbs the values, and returns a dense
result that PyTorch's same line is compared with."""

from __future__ import annotations

from .samples import OpInfo, Sample, T

IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) appears twice: an uncoalesced tensor


def _s(m, v, shape=(2, 3)):
    return m.sparse_coo_tensor(m.tensor(IDX), v, shape)


def _rows():
    values, matrix = T((4,)), T((3, 2))
    return [
        OpInfo("sparse_to_dense", lambda m, v: _s(m, v).to_dense(), [Sample(values)]),
        OpInfo(
            "sparse_hybrid_to_dense",
            lambda m, v: m.sparse_coo_tensor(m.tensor([[0, 2, 0]]), v, (3, 2)).to_dense(),
            [Sample(T((3, 2)))],
        ),
        OpInfo("sparse_coalesce", lambda m, v: _s(m, v).coalesce().values(), [Sample(values)]),
        OpInfo("sparse_mm", lambda m, v, d: m.sparse.mm(_s(m, v), d), [Sample(values, matrix)]),
        OpInfo("spmm", lambda m, v, d: m.spmm(_s(m, v), d), [Sample(values, matrix)]),
        OpInfo("sparse_matmul_vector", lambda m, v, d: _s(m, v) @ d, [Sample(values, T((3,)))]),
        OpInfo("sparse_t_mm", lambda m, v, d: m.mm(_s(m, v).t(), d), [Sample(values, T((2, 2)))]),
        OpInfo(
            "sparse_addmm",
            lambda m, c, v, d: m.sparse.addmm(c, _s(m, v), d, beta=0.5, alpha=2.0),
            [Sample(T((2, 2)), values, matrix)],
        ),
        OpInfo("sparse_sum", lambda m, v: m.sparse.sum(_s(m, v)), [Sample(values)]),
        OpInfo(
            "sparse_sum_dim", lambda m, v: m.sparse.sum(_s(m, v), 0).to_dense(), [Sample(values)]
        ),
        OpInfo(
            "sparse_softmax",
            lambda m, v: m.sparse.softmax(_s(m, v).coalesce(), 1).to_dense(),
            [Sample(values)],
        ),
        OpInfo(
            "sparse_log_softmax",
            lambda m, v: m.sparse.log_softmax(_s(m, v).coalesce(), 0).to_dense(),
            [Sample(values)],
        ),
        OpInfo(
            "sparse_scale_add",
            lambda m, v, w: (_s(m, v) * 2.0 + _s(m, w) / 4.0 - _s(m, v)).to_dense(),
            [Sample(values, values)],
        ),
        OpInfo("dense_add_sparse", lambda m, d, v: d + _s(m, v), [Sample(T((2, 3)), values)]),
        OpInfo("to_sparse", lambda m, x: (x.to_sparse() * 3.0).to_dense(), [Sample(T((2, 3)))]),
    ]


ROWS = _rows()
