"""The "Backward hooks execution" part of the Autograd mechanics note, as written for PyTorch:
the order in which tensor hooks, ``retain_grad``, ``Node`` pre-hooks and post-hooks
(``grad_fn.register_prehook`` / ``register_hook``) and ``register_post_accumulate_grad_hook``
run; a tensor hook that returns a new gradient and what ``.grad`` then holds (``retain_grad``
sees the changed one, as it runs last); whether a hook fires when its tensor is not on the path
to the inputs of ``torch.autograd.grad``; and hooks on a tensor modified in place (a hook
registered before the in-place op sees the gradient of the old value, one registered after it
the new value's)."""

import torch

events = []
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a * 3
b.retain_grad()
b.register_hook(lambda g: events.append(("tensor_hook_1", g.tolist())) or g * 2)
b.register_hook(lambda g: events.append(("tensor_hook_2", g.tolist())))
b.grad_fn.register_prehook(lambda gout: events.append(("node_prehook", gout[0].tolist())))
b.grad_fn.register_hook(
    lambda gin, gout: events.append(("node_posthook", [x.tolist() for x in gin if x is not None]))
)
a.register_hook(lambda g: events.append(("leaf_hook", g.tolist())))
a.register_post_accumulate_grad_hook(lambda p: events.append(("post_accumulate", p.grad.tolist())))
loss = (b**2).sum()
loss.backward()
order = [name for name, _ in events]
payloads = [value for _, value in events]
retained = b.grad.tolist()  # retain_grad's hook runs after the tensor hooks
leaf_grad = a.grad.tolist()

# Whether a hook fires: only where the gradient flows towards the requested inputs.
fired = []
x = torch.tensor(2.0, requires_grad=True)
y = torch.tensor(3.0, requires_grad=True)
u = x * 2
v = y * 5
u.register_hook(lambda g: fired.append("u"))
v.register_hook(lambda g: fired.append("v"))
(gx,) = torch.autograd.grad(u * v, (x,))
grad_only_x = [gx.item(), sorted(fired)]

# Hooks and in-place modification.
seen = {}
t = torch.tensor(1.0, requires_grad=True).sin()
t.register_hook(lambda g: seen.__setitem__("before", g.item()))
t.cos_()
t.register_hook(lambda g: seen.__setitem__("after", g.item()))
(t * 4).backward()
inplace_hooks = [round(seen["before"], 6), round(seen["after"], 6)]

# A hook may not be registered on a tensor that does not require grad.
try:
    torch.ones(2).register_hook(lambda g: g)
    hook_error = None
except RuntimeError as e:
    hook_error = str(e)

# Removing a hook handle.
count = []
w = torch.ones(3, requires_grad=True)
handle = w.register_hook(lambda g: count.append(1))
(w * 2).sum().backward()
handle.remove()
(w * 2).sum().backward()
removed = [len(count), w.grad.tolist()]
