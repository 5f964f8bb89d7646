"""The names of ops' ``grad_fn`` nodes in minigrad and in PyTorch, side by side.

Each row runs the same expression with ``m`` = minigrad or torch (``F`` its functional module)
on the same float64 inputs. ``python tests/grad_fn_names.py`` prints the table;
tests/test_grad_fn_names.py checks it.
"""

from __future__ import annotations

import numpy as np

R = np.random.default_rng(0)
A = {
    "x": R.standard_normal((3, 4)),
    "y": R.standard_normal((3, 4)),
    "p": R.uniform(0.5, 2.0, (3, 4)),  # positive (log, sqrt, pow)
    "u": R.uniform(0.1, 0.9, (3, 4)),  # in (0, 1) (asin, bce)
    "v": R.standard_normal(4),
    "w": R.standard_normal((5, 4)),
    "b": R.standard_normal(5),
    "m": R.standard_normal((4, 5)),
    "b3": R.standard_normal((2, 3, 4)),
    "c3": R.standard_normal((2, 4, 5)),
    "img": R.standard_normal((2, 3, 6, 6)),
    "k": R.standard_normal((4, 3, 3, 3)),
    "seq": R.standard_normal((2, 3, 5)),
    "k1": R.standard_normal((4, 3, 2)),
    "emb": R.standard_normal((10, 4)),
    "q": R.standard_normal((2, 2, 5, 4)),
}
LABELS = np.array([0, 3, 1])
IDX = np.array([2, 0])


def inputs(m):
    """The inputs as float64 tensors of module ``m`` that require grad, plus the int ones."""
    t = {k: m.tensor(a, dtype=m.float64, requires_grad=True) for k, a in A.items()}
    t["labels"] = m.tensor(LABELS)
    t["idx"] = m.tensor(IDX)
    t["tokens"] = m.tensor(np.array([[1, 2, 3], [4, 5, 9]]))
    return t


# (row name, expression(m, F, t) -> tensor with a grad_fn)
CASES = [
    ("add", lambda m, F, t: t["x"] + t["y"]),
    ("add scalar", lambda m, F, t: t["x"] + 1),
    ("sub", lambda m, F, t: t["x"] - t["y"]),
    ("rsub scalar", lambda m, F, t: 1 - t["x"]),
    ("mul", lambda m, F, t: t["x"] * t["y"]),
    ("mul scalar", lambda m, F, t: t["x"] * 2),
    ("div", lambda m, F, t: t["x"] / t["p"]),
    ("div scalar", lambda m, F, t: t["x"] / 2),
    ("neg", lambda m, F, t: -t["x"]),
    ("pow scalar", lambda m, F, t: t["p"] ** 2.5),
    ("pow tensor", lambda m, F, t: t["p"] ** t["x"]),
    ("reciprocal", lambda m, F, t: t["p"].reciprocal()),
    ("square", lambda m, F, t: t["x"].square()),
    ("abs", lambda m, F, t: t["x"].abs()),
    ("exp", lambda m, F, t: t["x"].exp()),
    ("log", lambda m, F, t: t["p"].log()),
    ("log1p", lambda m, F, t: t["p"].log1p()),
    ("expm1", lambda m, F, t: t["x"].expm1()),
    ("sqrt", lambda m, F, t: t["p"].sqrt()),
    ("rsqrt", lambda m, F, t: t["p"].rsqrt()),
    ("sin", lambda m, F, t: t["x"].sin()),
    ("cos", lambda m, F, t: t["x"].cos()),
    ("tan", lambda m, F, t: t["u"].tan()),
    ("tanh", lambda m, F, t: t["x"].tanh()),
    ("asin", lambda m, F, t: t["u"].asin()),
    ("atan2", lambda m, F, t: m.atan2(t["x"], t["p"])),
    ("sigmoid", lambda m, F, t: t["x"].sigmoid()),
    ("erf", lambda m, F, t: t["x"].erf()),
    ("clamp", lambda m, F, t: t["x"].clamp(-0.5, 0.5)),
    ("clamp min", lambda m, F, t: t["x"].clamp(min=0.0)),
    ("maximum", lambda m, F, t: m.maximum(t["x"], t["y"])),
    ("where", lambda m, F, t: m.where(t["x"] > 0, t["x"], t["y"])),
    ("relu", lambda m, F, t: F.relu(t["x"])),
    ("leaky_relu", lambda m, F, t: F.leaky_relu(t["x"], 0.1)),
    ("elu", lambda m, F, t: F.elu(t["x"])),
    ("gelu", lambda m, F, t: F.gelu(t["x"])),
    ("silu", lambda m, F, t: F.silu(t["x"])),
    ("softplus", lambda m, F, t: F.softplus(t["x"])),
    ("hardtanh", lambda m, F, t: F.hardtanh(t["x"])),
    ("softmax", lambda m, F, t: F.softmax(t["x"], dim=1)),
    ("log_softmax", lambda m, F, t: F.log_softmax(t["x"], dim=1)),
    ("sum", lambda m, F, t: t["x"].sum()),
    ("sum dim", lambda m, F, t: t["x"].sum(1)),
    ("mean", lambda m, F, t: t["x"].mean()),
    ("mean dim", lambda m, F, t: t["x"].mean(1)),
    ("prod", lambda m, F, t: t["p"].prod()),
    ("amax", lambda m, F, t: t["x"].amax(1)),
    ("max", lambda m, F, t: t["x"].max()),
    ("max dim", lambda m, F, t: t["x"].max(1)[0]),
    ("logsumexp", lambda m, F, t: t["x"].logsumexp(1)),
    ("norm", lambda m, F, t: t["x"].norm()),
    ("var", lambda m, F, t: t["x"].var(1)),
    ("std", lambda m, F, t: t["x"].std(1)),
    ("cumsum", lambda m, F, t: t["x"].cumsum(1)),
    ("cumprod", lambda m, F, t: t["p"].cumprod(1)),
    ("matmul 2-D", lambda m, F, t: t["x"] @ t["m"]),
    ("matmul 1-D", lambda m, F, t: t["v"] @ t["v"]),
    ("mm", lambda m, F, t: m.mm(t["x"], t["m"])),
    ("bmm", lambda m, F, t: m.bmm(t["b3"], t["c3"])),
    ("linear 2-D", lambda m, F, t: F.linear(t["x"], t["w"], t["b"])),
    ("linear 2-D no bias", lambda m, F, t: F.linear(t["x"], t["w"])),
    ("linear 3-D", lambda m, F, t: F.linear(t["b3"], t["w"], t["b"])),
    ("einsum", lambda m, F, t: m.einsum("ij,jk->ik", t["x"], t["m"])),
    ("view", lambda m, F, t: t["x"].view(12)),
    ("reshape", lambda m, F, t: t["x"].reshape(2, 6)),
    ("flatten", lambda m, F, t: t["b3"].flatten(1)),
    ("permute", lambda m, F, t: t["b3"].permute(2, 0, 1)),
    ("transpose", lambda m, F, t: t["x"].transpose(0, 1)),
    ("t", lambda m, F, t: t["x"].t()),
    ("expand", lambda m, F, t: t["v"].expand(3, 4)),
    ("unsqueeze", lambda m, F, t: t["x"].unsqueeze(0)),
    ("squeeze", lambda m, F, t: t["x"].unsqueeze(0).squeeze(0)),
    ("index int", lambda m, F, t: t["x"][1]),
    ("index slice", lambda m, F, t: t["x"][1:]),
    ("index tensor", lambda m, F, t: t["x"][t["idx"]]),
    ("index_select", lambda m, F, t: t["x"].index_select(0, t["idx"])),
    ("gather", lambda m, F, t: t["x"].gather(1, t["labels"].unsqueeze(1))),
    ("cat", lambda m, F, t: m.cat([t["x"], t["y"]])),
    ("stack", lambda m, F, t: m.stack([t["x"], t["y"]])),
    ("split", lambda m, F, t: t["x"].split(2, dim=1)[0]),
    ("flip", lambda m, F, t: t["x"].flip(0)),
    ("tril", lambda m, F, t: t["x"].tril()),
    ("pad", lambda m, F, t: F.pad(t["x"], (1, 1))),
    ("clone", lambda m, F, t: t["x"].clone()),
    ("to float32", lambda m, F, t: t["x"].float()),
    ("cross_entropy", lambda m, F, t: F.cross_entropy(t["x"], t["labels"])),
    ("nll_loss", lambda m, F, t: F.nll_loss(t["x"], t["labels"])),
    ("mse_loss", lambda m, F, t: F.mse_loss(t["x"], t["y"])),
    ("l1_loss", lambda m, F, t: F.l1_loss(t["x"], t["y"])),
    ("smooth_l1_loss", lambda m, F, t: F.smooth_l1_loss(t["x"], t["y"])),
    ("binary_cross_entropy", lambda m, F, t: F.binary_cross_entropy(t["u"], t["u"].detach())),
    (
        "binary_cross_entropy_with_logits",
        lambda m, F, t: F.binary_cross_entropy_with_logits(t["x"], t["u"].detach()),
    ),
    ("kl_div", lambda m, F, t: F.kl_div(t["x"], t["u"].detach(), reduction="batchmean")),
    ("layer_norm", lambda m, F, t: F.layer_norm(t["x"], (4,), t["v"], t["v"])),
    ("batch_norm", lambda m, F, t: F.batch_norm(t["x"], None, None, t["v"], t["v"], True)),
    ("group_norm", lambda m, F, t: F.group_norm(t["img"], 3)),
    ("conv1d", lambda m, F, t: F.conv1d(t["seq"], t["k1"])),
    ("conv2d", lambda m, F, t: F.conv2d(t["img"], t["k"])),
    ("conv_transpose2d", lambda m, F, t: F.conv_transpose2d(t["img"], t["k"].transpose(0, 1))),
    ("max_pool2d", lambda m, F, t: F.max_pool2d(t["img"], 2)),
    ("avg_pool2d", lambda m, F, t: F.avg_pool2d(t["img"], 2)),
    ("adaptive_avg_pool2d", lambda m, F, t: F.adaptive_avg_pool2d(t["img"], 2)),
    ("embedding", lambda m, F, t: F.embedding(t["tokens"], t["emb"])),
    ("dropout", lambda m, F, t: F.dropout(t["x"], 0.5, training=True)),
    (
        "scaled_dot_product_attention",
        lambda m, F, t: F.scaled_dot_product_attention(t["q"], t["q"], t["q"]),
    ),
    # less common ops: every op class whose name is set below has a row
    ("minimum", lambda m, F, t: m.minimum(t["x"], t["y"])),
    ("remainder", lambda m, F, t: m.remainder(t["x"], 0.7)),
    ("fmod", lambda m, F, t: m.fmod(t["x"], 0.7)),
    ("copysign", lambda m, F, t: m.copysign(t["x"], t["y"])),
    ("hypot", lambda m, F, t: m.hypot(t["x"], t["y"])),
    ("logaddexp", lambda m, F, t: m.logaddexp(t["x"], t["y"])),
    ("logaddexp2", lambda m, F, t: m.logaddexp2(t["x"], t["y"])),
    ("xlogy", lambda m, F, t: m.xlogy(t["x"], t["p"])),
    ("acos", lambda m, F, t: t["u"].acos()),
    ("atan", lambda m, F, t: t["x"].atan()),
    ("sinh", lambda m, F, t: t["x"].sinh()),
    ("cosh", lambda m, F, t: t["x"].cosh()),
    ("asinh", lambda m, F, t: t["x"].asinh()),
    ("acosh", lambda m, F, t: (t["p"] + 1).acosh()),
    ("atanh", lambda m, F, t: t["u"].atanh()),
    ("log2", lambda m, F, t: t["p"].log2()),
    ("log10", lambda m, F, t: t["p"].log10()),
    ("exp2", lambda m, F, t: t["x"].exp2()),
    ("sign", lambda m, F, t: t["x"].sign()),
    ("floor", lambda m, F, t: t["x"].floor()),
    ("ceil", lambda m, F, t: t["x"].ceil()),
    ("round", lambda m, F, t: t["x"].round()),
    ("trunc", lambda m, F, t: t["x"].trunc()),
    ("erfc", lambda m, F, t: t["x"].erfc()),
    ("erfinv", lambda m, F, t: t["u"].erfinv()),
    ("lgamma", lambda m, F, t: t["p"].lgamma()),
    ("digamma", lambda m, F, t: t["p"].digamma()),
    ("polygamma", lambda m, F, t: m.polygamma(1, t["p"])),
    ("i0", lambda m, F, t: t["x"].i0()),
    ("sinc", lambda m, F, t: t["x"].sinc()),
    ("special.erfcx", lambda m, F, t: m.special.erfcx(t["x"])),
    ("special.ndtr", lambda m, F, t: m.special.ndtr(t["x"])),
    ("special.ndtri", lambda m, F, t: m.special.ndtri(t["u"])),
    ("special.log_ndtr", lambda m, F, t: m.special.log_ndtr(t["x"])),
    ("special.i0e", lambda m, F, t: m.special.i0e(t["x"])),
    ("special.i1", lambda m, F, t: m.special.i1(t["x"])),
    ("special.i1e", lambda m, F, t: m.special.i1e(t["x"])),
    ("special.entr", lambda m, F, t: m.special.entr(t["p"])),
    ("special.xlog1py", lambda m, F, t: m.special.xlog1py(t["x"], t["p"])),
    ("amin", lambda m, F, t: t["x"].amin(1)),
    ("triu", lambda m, F, t: t["x"].triu()),
    ("scatter_add", lambda m, F, t: t["x"].scatter_add(1, t["labels"].unsqueeze(1), t["y"])),
    ("scatter", lambda m, F, t: t["x"].scatter(1, t["labels"].unsqueeze(1), t["y"])),
    ("index_add", lambda m, F, t: t["x"].index_add(0, t["idx"], t["y"][:2])),
    ("setitem on a copy", lambda m, F, t: _setitem(t["x"].clone(), t["v"])),
    ("linalg.solve", lambda m, F, t: m.linalg.solve(_spd(m, t), t["x"][:, :3].t())),
    ("linalg.cholesky", lambda m, F, t: m.linalg.cholesky(_spd(m, t))),
    ("linalg.slogdet", lambda m, F, t: m.linalg.slogdet(_spd(m, t))[1]),
    ("lstm_cell", lambda m, F, t: _cell(m, t, "LSTMCell")[0]),
    ("gru_cell", lambda m, F, t: _cell(m, t, "GRUCell")),
    ("celu", lambda m, F, t: F.celu(t["x"])),
    ("selu", lambda m, F, t: F.selu(t["x"])),
    ("max_pool1d", lambda m, F, t: F.max_pool1d(t["seq"], 2)),
    ("max_pool3d", lambda m, F, t: F.max_pool3d(t["img"].unsqueeze(0), 2)),
    ("avg_pool1d", lambda m, F, t: F.avg_pool1d(t["seq"], 2)),
    ("avg_pool3d", lambda m, F, t: F.avg_pool3d(t["img"].unsqueeze(0), 2)),
    ("layer_norm no affine", lambda m, F, t: F.layer_norm(t["x"], (4,))),
    ("batch_norm eval", lambda m, F, t: _bn_eval(m, F, t)),
    ("instance_norm", lambda m, F, t: F.instance_norm(t["img"])),
    ("ctc_loss", lambda m, F, t: _ctc(m, F, t)),
    ("unfold", lambda m, F, t: F.unfold(t["img"], 2)),
    ("fold", lambda m, F, t: F.fold(t["c3"].reshape(1, 8, 5).repeat(1, 1, 5)[:, :, :25], 6, 2)),
]


def _setitem(a, v):
    a[1] = v
    return a


def _spd(m, t):
    """A symmetric positive-definite 3x3 matrix made from the inputs."""
    a = t["x"][:, :3]
    return a @ a.t() + 3 * m.eye(3, dtype=m.float64)


def _cell(m, t, kind):
    m.manual_seed(0)
    cell = getattr(m.nn, kind)(4, 2).double()
    return cell(t["x"])


def _bn_eval(m, F, t):
    mean, var = m.zeros(4, dtype=m.float64), m.ones(4, dtype=m.float64)
    return F.batch_norm(t["x"], mean, var, t["v"], t["v"], False)


def _ctc(m, F, t):
    logp = t["seq"].permute(2, 0, 1).log_softmax(2)  # (T=5, N=2, C=3)
    lengths = m.tensor([5, 5])
    targets = m.tensor([[1, 2], [1, 1]])
    return F.ctc_loss(logp, targets, lengths, m.tensor([2, 2]), reduction="none")


def names(m, F) -> dict:
    """Row name -> the name of the row's ``grad_fn`` in module ``m`` (or the error).

    ``grad_fn.name()`` of both (a minigrad ``grad_fn``'s class is the op's own class,
    ``ReLUOp``, and is not compared).
    """
    out = {}
    m.manual_seed(0)
    for row, fn in CASES:
        try:
            out[row] = fn(m, F, inputs(m)).grad_fn.name()
        except Exception as e:
            out[row] = f"<{type(e).__name__}: {e}>"[:60]
    return out


def table():
    """(row, minigrad's name, torch's name) per row."""
    import torch
    import torch.nn.functional as tF

    import minigrad
    import minigrad.nn.functional as mF

    ours, theirs = names(minigrad, mF), names(torch, tF)
    return [(row, ours[row], theirs[row]) for row, _ in CASES]


if __name__ == "__main__":
    rows = table()
    same = sum(o == t for _, o, t in rows)
    for row, o, t in rows:
        print(f"{'  ' if o == t else '!='} {row:34} {o:34} {t}")
    print(f"{same} of {len(rows)} match")
