"""The "Tensor Views" page, as its examples are written for PyTorch: a view shares its base's
data (``t.view(2, 8)`` then ``b[0][0] = 3.14`` changes ``t``), ``t.untyped_storage().data_ptr()``
equal for both, ``transpose`` giving a non-contiguous view and ``.contiguous()`` a copy, the
error of ``view`` on a non-contiguous tensor and ``reshape`` copying instead, and the other
view ops of the page (``narrow``, ``diagonal``, ``unfold``, ``split``/``chunk``/``unbind``,
``movedim``, ``unflatten``, ``expand``, ``view_as_real``, ``as_strided``, ``mT``), each
checked for sharing by writing through it; ``_base`` and ``_is_view`` as the page shows."""

import torch

t = torch.rand(4, 4)
b = t.view(2, 8)
same_storage = t.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
b[0][0] = 3.14
written_through = t[0][0].item()

base = torch.tensor([[0, 1], [2, 3]])
base_contiguous = base.is_contiguous()
tt = base.transpose(0, 1)
view_facts = [base_contiguous, tt.is_contiguous(), tt._base is base, tt._is_view()]
c = tt.contiguous()
copy_facts = [c.is_contiguous(), c._base is None, c.tolist()]
try:
    tt.view(4)
    view_error = None
except RuntimeError as e:
    view_error = str(e)
r = tt.reshape(4)
reshape_copies = [r.tolist(), r.untyped_storage().data_ptr() != base.untyped_storage().data_ptr()]
r2 = base.reshape(4)
reshape_views = r2.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
flat_view = base.view(-1)
strides = [list(base.stride()), list(tt.stride()), list(flat_view.stride())]


def writes_through(make, source_shape=(4, 6)):
    """True when writing into make(x) changes x: make(x) is a view."""
    x = torch.arange(24.0).reshape(source_shape)
    before = x.clone()
    v = make(x)
    v.add_(100) if not isinstance(v, (tuple, list)) else v[0].add_(100)
    return not torch.equal(x, before)


views = {
    "narrow": writes_through(lambda x: x.narrow(1, 2, 3)),
    "diagonal": writes_through(lambda x: x.diagonal()),
    "unfold": writes_through(lambda x: x[0].unfold(0, 2, 2)),
    "split": writes_through(lambda x: x.split(2, dim=1)),
    "chunk": writes_through(lambda x: x.chunk(3, dim=0)),
    "unbind": writes_through(lambda x: x.unbind(0)),
    "movedim": writes_through(lambda x: x.movedim(0, 1)),
    "unflatten": writes_through(lambda x: x.unflatten(1, (2, 3))),
    "as_strided": writes_through(lambda x: x.as_strided((2, 2), (1, 6))),
    "mT": writes_through(lambda x: x.mT),
    "indexing_slice": writes_through(lambda x: x[1:, ::2]),
    "advanced_index_copy": writes_through(lambda x: x[[0, 2]]),
    "flatten_contiguous": writes_through(lambda x: x.flatten()),
    "flatten_noncontiguous": writes_through(lambda x: x.t().flatten()),
    "view_as_real": writes_through(lambda x: torch.view_as_real(x.to(torch.cfloat))),
    "detach": writes_through(lambda x: x.detach()),
}
shapes = {
    "unfold": list(torch.arange(6.0).unfold(0, 2, 2).shape),
    "unflatten": list(torch.zeros(4, 6).unflatten(1, (2, -1)).shape),
    "movedim": list(torch.zeros(2, 3, 4).movedim((0, 1), (2, 0)).shape),
    "diagonal_offset": torch.arange(9).reshape(3, 3).diagonal(offset=1).tolist(),
    "as_strided": torch.arange(9).as_strided((2, 2), (3, 1), 1).tolist(),
    "expand_strides": list(torch.zeros(3, 1).expand(3, 4).stride()),
}
try:
    torch.zeros(4, 6).unflatten(1, (4, 4))
    unflatten_error = None
except RuntimeError as e:
    unflatten_error = str(e)
try:
    torch.zeros(2, 3).view(5)
    view_size_error = None
except RuntimeError as e:
    view_size_error = str(e)
