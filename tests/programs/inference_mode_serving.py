"""Serving code's ``torch.inference_mode`` next to ``torch.no_grad``, as the autograd
mechanics notes describe them: tensors made in inference mode are inference tensors
(``is_inference()``), refuse to be saved for backward or updated in place outside the mode,
and are turned into ordinary tensors with ``clone()``; ``no_grad`` tensors are ordinary.
``inference_mode`` as a decorator and with ``mode=False`` nested inside, the version counter
of no-grad updates, a cache of embeddings filled in inference mode and fed to a trainable
head (after a clone), and a model whose evaluation runs under each mode with equal outputs."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
encoder = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))
head = nn.Linear(8, 3)
x = torch.randn(32, 8)
y = torch.randint(0, 3, (32,))


@torch.inference_mode()
def embed(batch):
    return encoder(batch)


errors = {}


def expect_error(key, fn):
    try:
        fn()
        errors[key] = "no error"
    except RuntimeError as e:
        errors[key] = str(e).split(".")[0]  # the first sentence of the message


cache = embed(x)
flags = {
    "cache_is_inference": cache.is_inference(),
    "cache_requires_grad": cache.requires_grad,
    "grad_enabled_inside": None,
    "no_grad_is_inference": None,
}
with torch.inference_mode():
    flags["grad_enabled_inside"] = torch.is_grad_enabled()
    flags["inference_enabled"] = torch.is_inference_mode_enabled()
    with torch.inference_mode(mode=False):
        flags["nested_disabled"] = torch.is_inference_mode_enabled()
        flags["nested_grad"] = torch.is_grad_enabled()
with torch.no_grad():
    plain = encoder(x)
flags["no_grad_is_inference"] = plain.is_inference()
flags["outside_enabled"] = torch.is_inference_mode_enabled()

w = torch.randn(8, 3, requires_grad=True)
expect_error("save_for_backward", lambda: (cache @ w).sum().backward())
expect_error("inplace_outside", lambda: cache.add_(1.0))
expect_error("head_on_cache", lambda: F.cross_entropy(head(cache), y).backward())
expect_error("version", lambda: cache._version)
expect_error("requires_grad", lambda: cache[:4].detach().requires_grad_())
w_added = (cache + w.sum(1)).sum()  # nothing of the inference tensor is saved: allowed
w_added.backward()
flags["sum_grad"] = w.grad.sum().item()
flags["views_are_inference"] = [cache[:2].is_inference(), cache.detach().is_inference()]
# a view or arithmetic without autograd recording is fine, and a clone is an ordinary tensor
mean_norm = cache.norm(dim=1).mean().item()
features = cache.clone()
flags["clone_is_inference"] = features.is_inference()
with torch.no_grad():
    plain.mul_(2.0)  # allowed: an ordinary tensor, its version counter moves
flags["plain_version"] = plain._version

opt = torch.optim.SGD(head.parameters(), lr=0.5)
losses = []
for _ in range(20):
    loss = F.cross_entropy(head(features), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

with torch.inference_mode():
    inf_logits = head(embed(x))
with torch.no_grad():
    ng_logits = head(encoder(x))
mode_gap = (inf_logits - ng_logits).abs().max().item()
predictions = inf_logits.argmax(1).tolist()
