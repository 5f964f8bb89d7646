"""The named tuples ops return (``minigrad.return_types.max`` and co.), as ``torch.return_types``.

Each is a namedtuple class whose repr is PyTorch's (``minigrad.return_types.max(`` then one
``field=value`` per line); ``values, indices = x.max(0)`` and ``r.values`` both work, and the
pytree functions treat them as namedtuples. The ``*_out`` classes mirror PyTorch's, returned by
the ``out=`` forms there.
"""

from __future__ import annotations

from collections import namedtuple

from . import _public_name

_FIELDS = {
    "aminmax": "min max",
    "cummax": "values indices",
    "cummin": "values indices",
    "frexp": "mantissa exponent",
    "geqrf": "a tau",
    "histogram": "hist bin_edges",
    "histogramdd": "hist bin_edges",
    "kthvalue": "values indices",
    "linalg_cholesky_ex": "L info",
    "linalg_eig": "eigenvalues eigenvectors",
    "linalg_eigh": "eigenvalues eigenvectors",
    "linalg_inv_ex": "inverse info",
    "linalg_ldl_factor": "LD pivots",
    "linalg_ldl_factor_ex": "LD pivots info",
    "linalg_lstsq": "solution residuals rank singular_values",
    "linalg_lu": "P L U",
    "linalg_lu_factor": "LU pivots",
    "linalg_lu_factor_ex": "LU pivots info",
    "linalg_qr": "Q R",
    "linalg_slogdet": "sign logabsdet",
    "linalg_solve_ex": "result info",
    "linalg_svd": "U S Vh",
    "lu_unpack": "P L U",
    "max": "values indices",
    "median": "values indices",
    "min": "values indices",
    "mode": "values indices",
    "nanmedian": "values indices",
    "qr": "Q R",
    "slogdet": "sign logabsdet",
    "sort": "values indices",
    "svd": "U S V",
    "topk": "values indices",
    "triangular_solve": "solution cloned_coefficient",
}


def _repr(self) -> str:
    body = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
    return f"{_public_name.shown()}.return_types.{type(self).__name__}(\n{body})"


def structseq(name: str, fields) -> type:
    """A namedtuple class ``name`` with ``fields``, living in this module, printed as
    PyTorch prints its return types."""
    base = namedtuple(name, fields)
    return type(name, (base,), {"__slots__": (), "__repr__": _repr, "__module__": __name__})


for _name, _fields in _FIELDS.items():
    globals()[_name] = structseq(_name, _fields.split())
    if _name != "histogramdd":  # (PyTorch has no histogramdd_out)
        globals()[_name + "_out"] = structseq(_name + "_out", _fields.split())

all_return_types = [v for k, v in list(globals().items()) if k in _FIELDS or k[:-4] in _FIELDS]
__all__ = [
    "all_return_types",
    "structseq",
    *sorted(n for n in globals() if n.endswith("_out") or n in _FIELDS),
]
