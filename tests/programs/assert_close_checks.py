"""A kernel test harness as extension authors write it with ``torch.testing``: a hand-written
fused softmax-cross-entropy (forward and gradient) checked against ``F.cross_entropy`` with
``torch.testing.assert_close`` at float32 and float64 default tolerances, ``rtol``/``atol``
overrides, ``equal_nan``, ``check_dtype=False``, ``check_stride=False``, and a ``msg``
callable; every failure's message is kept (the mismatch counts and the greatest absolute and
relative differences with their indices, shape and dtype mismatches) and compared, as are
``torch.testing.make_tensor`` inputs with ``low``/``high`` and ``exclude_zero``."""

import torch
import torch.nn.functional as F
from torch.testing import assert_close, make_tensor


def fused_xent(logits, target):
    shifted = logits - logits.max(1, keepdim=True).values
    logsumexp = shifted.exp().sum(1).log()
    loss = (logsumexp - shifted.gather(1, target[:, None]).squeeze(1)).mean()
    probs = (shifted - logsumexp[:, None]).exp()
    grad = probs.clone()
    grad[torch.arange(len(target)), target] -= 1.0
    return loss, grad / len(target)


def failure(fn):
    try:
        fn()
        return "passed"
    except (AssertionError, TypeError, ValueError) as e:
        return [type(e).__name__] + [line.strip() for line in str(e).splitlines() if line.strip()]


torch.manual_seed(0)
results = {}
for dtype in (torch.float32, torch.float64):
    logits = make_tensor((6, 5), dtype=dtype, device="cpu", low=-3, high=3, requires_grad=True)
    target = make_tensor((6,), dtype=torch.int64, device="cpu", low=0, high=5)
    loss, grad = fused_xent(logits.detach(), target)
    reference = F.cross_entropy(logits, target)
    reference.backward()
    results[str(dtype).split(".")[-1]] = [
        failure(lambda: assert_close(loss, reference.detach())),
        failure(lambda: assert_close(grad, logits.grad)),
    ]

a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = a.clone()
b[0, 1] += 0.01
b[1, 2] -= 0.5
messages = {
    "values": failure(lambda: assert_close(a, b)),
    "loose": failure(lambda: assert_close(a, b, rtol=0.1, atol=0.0)),
    "atol_only": failure(lambda: assert_close(a, b, rtol=0.0, atol=0.02)),
    "shape": failure(lambda: assert_close(a, a[:, :2])),
    "dtype": failure(lambda: assert_close(a, a.double())),
    "dtype_off": failure(lambda: assert_close(a, a.double(), check_dtype=False)),
    "nan": failure(
        lambda: assert_close(torch.tensor([float("nan"), 1.0]), torch.tensor([float("nan"), 1.0]))
    ),
    "nan_equal": failure(
        lambda: assert_close(
            torch.tensor([float("nan"), 1.0]), torch.tensor([float("nan"), 1.0]), equal_nan=True
        )
    ),
    "stride": failure(lambda: assert_close(a.t().contiguous(), a.t(), check_stride=False)),
    "custom_msg": failure(lambda: assert_close(a, b, msg=lambda m: "fused kernel drifted\n" + m)),
    "ints": failure(lambda: assert_close(torch.tensor([1, 2, 3]), torch.tensor([1, 2, 4]))),
    "scalars": failure(lambda: assert_close(1.0, 1.0 + 1e-3)),
    "lists": failure(lambda: assert_close([a, 1.0], [a.clone(), 1.0])),
}
sample = make_tensor((4,), dtype=torch.float32, device="cpu", low=-1, high=1, exclude_zero=True)
sample_ok = bool((sample != 0).all() and (sample.abs() <= 1).all())
