"""Op-table rows of sparse compressed tensors (branch sparse2): each row builds a CSR, CSC or
BSR tensor from its sample values inside the function, so gradcheck perturbs the values, and
returns a dense result (or values) that PyTorch's same line is compared with."""

from __future__ import annotations

from .samples import OpInfo, Sample, T

CROW, COL = [0, 1, 3], [1, 0, 2]  # a 2 x 3 CSR pattern: (0, 1), (1, 0), (1, 2)


def _csr(m, v, shape=(2, 3)):
    return m.sparse_csr_tensor(m.tensor(CROW), m.tensor(COL), v, shape)


def _bsr(m, b):
    return m.sparse_bsr_tensor(m.tensor([0, 1, 2]), m.tensor([1, 0]), b, (2, 4))


def _csr2(m, w):  # 3 x 2
    return m.sparse_csr_tensor(m.tensor([0, 1, 2, 3]), m.tensor([1, 0, 1]), w, (3, 2))


def _rows():
    values, blocks = T((3,)), T((2, 1, 2))
    return [
        OpInfo("csr_to_dense", lambda m, v: _csr(m, v).to_dense(), [Sample(values)]),
        OpInfo(
            "csc_to_dense",
            lambda m, v: m.sparse_csc_tensor(m.tensor(CROW), m.tensor(COL), v, (3, 2)).to_dense(),
            [Sample(values)],
        ),
        OpInfo("bsr_to_dense", lambda m, b: _bsr(m, b).to_dense(), [Sample(blocks)]),
        OpInfo("csr_mm", lambda m, v, d: _csr(m, v) @ d, [Sample(values, T((3, 2)))]),
        OpInfo("csr_mv", lambda m, v, d: m.mm(_csr(m, v), d), [Sample(values, T((3, 1)))]),
        OpInfo(
            "csr_sparse_mm", lambda m, v, d: m.sparse.mm(_csr(m, v), d), [Sample(values, T((3, 2)))]
        ),
        OpInfo(
            "csr_addmm",
            lambda m, c, v, d: m.addmm(c, _csr(m, v), d, beta=0.5, alpha=2.0),
            [Sample(T((2, 2)), values, T((3, 2)))],
        ),
        OpInfo("dense_mm_csr", lambda m, d, v: d @ _csr(m, v), [Sample(T((2, 2)), values)]),
        OpInfo("csr_t_mm", lambda m, v, d: m.mm(_csr(m, v).t(), d), [Sample(values, T((2, 2)))]),
        OpInfo("bsr_t_to_dense", lambda m, b: _bsr(m, b).t().to_dense(), [Sample(blocks)]),
        OpInfo("vector_mm_csr", lambda m, d, v: d @ _csr(m, v), [Sample(T((2,)), values)]),
        OpInfo(
            "csr_sin",
            lambda m, v: _csr(m, v).sin().to_dense(),
            [Sample(values)],
            torch=False,
            note="PyTorch has no backward of sin on a CSR tensor (forward: test_sparse_compressed)",
        ),
        OpInfo(
            "bsr_tanh",
            lambda m, b: _bsr(m, b).tanh().values(),
            [Sample(blocks)],
            torch=False,
            note="PyTorch has no backward of tanh on a BSR tensor (forward: test_sparse_compressed)",
        ),
        OpInfo("csr_to_csc", lambda m, v: _csr(m, v).to_sparse_csc().values(), [Sample(values)]),
        OpInfo("csr_to_coo", lambda m, v: _csr(m, v).to_sparse().values(), [Sample(values)]),
        OpInfo("dense_to_csr", lambda m, x: x.to_sparse_csr().values(), [Sample(T((2, 4)))]),
        OpInfo("dense_to_bsr", lambda m, x: x.to_sparse_bsr((1, 2)).values(), [Sample(T((2, 4)))]),
        OpInfo(
            "csr_mm_csr",
            lambda m, v, w: (_csr(m, v) @ _csr2(m, w)).to_dense(),
            [Sample(values, values)],
        ),
        OpInfo(
            "coo_mm_coo",
            lambda m, v, w: m.sparse.mm(_csr(m, v).to_sparse(), _csr2(m, w).to_sparse()).to_dense(),
            [Sample(values, values)],
        ),
        OpInfo(
            "sparse_mask_coo",
            lambda m, x: x.sparse_mask(
                _csr(m, m.ones(3, dtype=x.dtype, device=x.device)).to_sparse()
            ).to_dense(),
            [Sample(T((2, 3)))],
        ),
        OpInfo(
            "sparse_mask_csr",
            lambda m, x: x.sparse_mask(_csr(m, m.ones(3, dtype=x.dtype, device=x.device))).values(),
            [Sample(T((2, 3)))],
            torch=False,
            note="PyTorch has no backward of sparse_mask with a CSR mask (forward is compared "
            "in tests/test_sparse_compressed.py)",
        ),
        OpInfo(
            "sampled_addmm",
            lambda m, v, a, b: m.sparse.sampled_addmm(
                _csr(m, v), a, b, beta=0.5, alpha=2.0
            ).to_dense(),
            [Sample(values, T((2, 4)), T((4, 3)))],
        ),
    ]


ROWS = _rows()
