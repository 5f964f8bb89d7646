"""Shape operations whose results surprise people on Stack Overflow: ``expand`` (a view with
stride 0, no memory) against ``repeat`` (a copy), an in-place write into an expanded tensor ("more
than one element of the written-to tensor refers to a single memory location"), ``expand`` of a
non-singleton dimension, ``view`` after ``permute`` and its error, ``reshape`` copying or not
(checked through ``data_ptr``), ``chunk`` returning fewer chunks than asked, ``split`` with a
size and with a list of sizes (and the error when they do not add up), ``tensor_split``,
``narrow`` sharing memory, ``stack`` against ``cat`` (shapes and the "stack expects each tensor to
be equal size" error), ``cat`` of mixed dtypes (promotion) and of mismatched shapes, and
``squeeze`` on a dimension that is not 1; a small batch of feature maps is tiled and pooled with
both ``expand`` and ``repeat`` and the two give the same gradient."""

import torch

torch.manual_seed(0)


def error_of(fn):
    try:
        fn()
    except Exception as e:  # the program records whichever error it gets
        return [type(e).__name__, str(e)]
    return None


# expand vs repeat: strides, storage sharing, contiguity.
row = torch.arange(3.0).reshape(1, 3)
ex = row.expand(4, 3)
rp = row.repeat(4, 1)
expand_facts = [
    list(ex.stride()),
    list(rp.stride()),
    ex.data_ptr() == row.data_ptr(),
    rp.data_ptr() == row.data_ptr(),
    ex.is_contiguous(),
    rp.is_contiguous(),
    ex.untyped_storage().nbytes(),
    rp.untyped_storage().nbytes(),
]
row[0, 1] = 10.0  # seen through the expanded view, not through the repeated copy
seen = [ex[:, 1].tolist(), rp[:, 1].tolist()]
write_error = error_of(lambda: ex.add_(1))
write_error_index = error_of(lambda: ex.__setitem__((0, 0), 5.0))
ok_after_clone = ex.clone().add_(1)[3].tolist()
bad_expand = error_of(lambda: torch.zeros(2, 3).expand(4, 3))
expand_minus_one = list(torch.zeros(2, 1).expand(-1, 5).shape)
expand_new_dims = list(torch.zeros(3).expand(2, 4, 3).shape)
repeat_shapes = [
    list(torch.zeros(2, 3).repeat(2, 2).shape),
    list(torch.zeros(3).repeat(2, 1, 2).shape),
]
repeat_error = error_of(lambda: torch.zeros(2, 3).repeat(2))
repeat_interleave = torch.tensor([1, 2, 3]).repeat_interleave(2).tolist()

# view after permute fails, reshape copies, contiguous().view works.
img = torch.arange(24.0).reshape(2, 3, 4)
perm = img.permute(0, 2, 1)
view_error = error_of(lambda: perm.view(2, 12))
reshaped = perm.reshape(2, 12)
reshape_facts = [
    reshaped.data_ptr() == img.data_ptr(),
    img.reshape(6, 4).data_ptr() == img.data_ptr(),
    img.transpose(1, 2).contiguous().view(2, 12).tolist() == reshaped.tolist(),
    perm.flatten(1).data_ptr() == img.data_ptr(),
    img[:, :, ::2].reshape(2, 6).data_ptr() == img.data_ptr(),
    img.view(2, -1).shape[1],
]
view_infer_error = error_of(lambda: img.view(5, -1))
view_two_minus = error_of(lambda: img.view(-1, -1))

# chunk vs split vs tensor_split.
seq = torch.arange(6)
chunk_sizes = [
    [c.numel() for c in seq.chunk(4)],  # 3 chunks of 2, not 4
    [c.numel() for c in seq.chunk(5)],
    [c.numel() for c in torch.arange(5).chunk(3)],
    [c.numel() for c in torch.arange(5).chunk(6)],
]
split_sizes = [
    [c.numel() for c in seq.split(4)],
    [c.numel() for c in seq.split([1, 2, 3])],
    [c.numel() for c in torch.arange(5).tensor_split(3)],
    [c.numel() for c in seq.tensor_split([1, 4])],
]
split_error = error_of(lambda: seq.split([2, 2]))
chunk_error = error_of(lambda: seq.chunk(0))

# narrow shares memory; its bounds error.
base = torch.zeros(3, 5)
nar = base.narrow(1, 1, 3)
nar.fill_(2)
narrow_facts = [base.sum().item(), list(nar.shape), nar.is_contiguous()]
narrow_error = error_of(lambda: base.narrow(1, 3, 3))

# stack vs cat.
a, b = torch.ones(2, 3), torch.zeros(2, 3)
shapes = [
    list(torch.stack([a, b]).shape),
    list(torch.stack([a, b], dim=2).shape),
    list(torch.cat([a, b]).shape),
    list(torch.cat([a, b], dim=1).shape),
    list(torch.cat([a, torch.zeros(0)]).shape),  # the legacy empty 1-D tensor is skipped
]
stack_error = error_of(lambda: torch.stack([torch.ones(2, 3), torch.ones(2, 4)]))
cat_error = error_of(lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]))
cat_dim_error = error_of(lambda: torch.cat([torch.ones(2, 3), torch.ones(3)], dim=0))
stack_empty_error = error_of(lambda: torch.stack([]))

# cat of mixed dtypes promotes.
mixed = [
    str(torch.cat([torch.ones(2, dtype=torch.int32), torch.ones(2, dtype=torch.float16)]).dtype),
    str(torch.cat([torch.ones(2, dtype=torch.uint8), torch.ones(2, dtype=torch.int8)]).dtype),
    str(torch.cat([torch.ones(2, dtype=torch.bool), torch.ones(2, dtype=torch.int64)]).dtype),
    str(torch.stack([torch.ones(2), torch.ones(2, dtype=torch.float64)]).dtype),
]

# squeeze on a non-1 dimension is a no-op; unsqueeze range error.
sq = torch.zeros(2, 1, 3)
squeeze_facts = [
    list(sq.squeeze(0).shape),
    list(sq.squeeze(1).shape),
    list(sq.squeeze().shape),
    list(sq.squeeze((0, 1)).shape),
]
unsqueeze_error = error_of(lambda: sq.unsqueeze(5))

# Tiling with expand and with repeat: same values, same gradients.
feat = torch.randn(2, 4, requires_grad=True)
weights = torch.randn(3, 4)
tiled_e = feat.unsqueeze(1).expand(-1, 3, -1)
tiled_r = feat.unsqueeze(1).repeat(1, 3, 1)
loss_e = (tiled_e * weights).tanh().sum()
loss_r = (tiled_r * weights).tanh().sum()
g_e = torch.autograd.grad(loss_e, feat)[0]
g_r = torch.autograd.grad(loss_r, feat)[0]
tile_results = [
    loss_e.item(),
    loss_r.item(),
    g_e.flatten().tolist(),
    (g_e - g_r).abs().max().item(),
]
