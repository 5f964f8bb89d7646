"""CS231n assignment 2's modular layers ported to torch tensors, as students check them:
``affine_forward``/``affine_backward``, ``relu``, ``batchnorm_forward`` with a ``bn_param``
dict of running averages and the simplified ``batchnorm_backward_alt``, inverted dropout with
a seeded mask kept in the cache, ``softmax_loss`` (``logsumexp`` and ``dx[range(N), y] -= 1``),
each backward checked against ``eval_numerical_gradient_array`` (central differences over
``np.nditer``-style flat indices, ``.item()`` per entry) and against ``torch.autograd.grad``
by ``rel_error``; then a ``TwoLayerNet`` with ``self.params`` and a ``loss`` returning
hand-derived gradients, trained by the assignment's ``sgd_momentum(w, dw, config)`` and
``adam`` update rules with ``config.setdefault``, and the same net by autograd and
``torch.optim.Adam``."""

import torch

torch.manual_seed(231)
torch.set_default_dtype(torch.float64)


def rel_error(x, y):
    """returns relative error"""
    return ((x - y).abs() / torch.clamp(x.abs() + y.abs(), min=1e-8)).max().item()


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    grad = torch.zeros_like(x)
    flat_x, flat_grad = x.view(-1), grad.view(-1)
    for ix in range(flat_x.numel()):
        oldval = flat_x[ix].item()
        flat_x[ix] = oldval + h
        pos = f(x).clone()
        flat_x[ix] = oldval - h
        neg = f(x).clone()
        flat_x[ix] = oldval
        flat_grad[ix] = ((pos - neg) * df).sum() / (2 * h)
    return grad


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(0)
    return dx, dw, db


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", torch.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", torch.zeros(D, dtype=x.dtype))
    cache = None
    if mode == "train":
        mu = x.mean(0)
        var = x.var(0, unbiased=False)
        std = torch.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (x_hat, gamma, std)
    else:
        out = gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache


def batchnorm_backward_alt(dout, cache):
    x_hat, gamma, std = cache
    N = dout.shape[0]
    dgamma = (dout * x_hat).sum(0)
    dbeta = dout.sum(0)
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) / (N * std)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        torch.manual_seed(dropout_param["seed"])
    if mode == "train":
        mask = (torch.rand(*x.shape) < p) / p
        return x * mask, (dropout_param, mask)
    return x, (dropout_param, None)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout


def softmax_loss(x, y):
    N = x.shape[0]
    log_probs = x - torch.logsumexp(x, dim=1, keepdim=True)
    loss = -log_probs[range(N), y].mean()
    dx = log_probs.exp()
    dx[range(N), y] -= 1
    return loss.item(), dx / N


errors = {}
x, w, b = torch.randn(4, 2, 3), torch.randn(6, 5), torch.randn(5)
dout = torch.randn(4, 5)
dx, dw, db = affine_backward(dout, affine_forward(x, w, b)[1])
errors["affine_dx"] = rel_error(
    dx, eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
)
errors["affine_dw"] = rel_error(
    dw, eval_numerical_gradient_array(lambda w: affine_forward(x, w, b)[0], w, dout)
)
errors["affine_db"] = rel_error(
    db, eval_numerical_gradient_array(lambda b: affine_forward(x, w, b)[0], b, dout)
)
x = torch.randn(5, 4)
dout = torch.randn(5, 4)
errors["relu_dx"] = rel_error(
    relu_backward(dout, relu_forward(x)[1]),
    eval_numerical_gradient_array(lambda x: relu_forward(x)[0], x, dout),
)

N, D = 6, 3
x = 5 * torch.randn(N, D) + 12
gamma, beta = torch.randn(D), torch.randn(D)
dout = torch.randn(N, D)
bn_param = {"mode": "train"}
_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward_alt(dout, cache)
errors["bn_dx"] = rel_error(
    dx,
    eval_numerical_gradient_array(
        lambda x: batchnorm_forward(x, gamma, beta, {"mode": "train"})[0], x, dout
    ),
)
errors["bn_dgamma"] = rel_error(
    dgamma,
    eval_numerical_gradient_array(
        lambda g: batchnorm_forward(x, g, beta, {"mode": "train"})[0], gamma, dout
    ),
)
xs = x.clone().requires_grad_()
gs, bs = gamma.clone().requires_grad_(), beta.clone().requires_grad_()
out, _ = batchnorm_forward(xs, gs, bs, {"mode": "train"})
autograd = torch.autograd.grad(out, (xs, gs, bs), dout)
errors["bn_autograd"] = max(rel_error(a, h) for a, h in zip(autograd, (dx, dgamma, dbeta)))
for t in range(20):
    batchnorm_forward(2 * torch.randn(16, D) + 3, torch.ones(D), torch.zeros(D), bn_param)
test_out, _ = batchnorm_forward(
    2 * torch.randn(200, D) + 3, torch.ones(D), torch.zeros(D), {**bn_param, "mode": "test"}
)
bn_test_stats = [test_out.mean(0).tolist(), test_out.std(0).tolist()]

x = torch.randn(50, 20) + 10
dropout_means = []
for p in (0.25, 0.6):
    out, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 123})
    dropout_means.append([out.mean().item(), (out == 0).double().mean().item()])
x, dout = torch.randn(4, 5) + 10, torch.randn(4, 5)
dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
dx = dropout_backward(dout, dropout_forward(x, dropout_param)[1])
errors["dropout_dx"] = rel_error(
    dx, eval_numerical_gradient_array(lambda x: dropout_forward(x, dropout_param)[0], x, dout)
)
logits, y = 0.001 * torch.randn(8, 5), torch.randint(5, (8,))
softmax_value, dlogits = softmax_loss(logits, y)
errors["softmax_dx"] = rel_error(
    dlogits,
    eval_numerical_gradient_array(
        lambda x: torch.tensor(softmax_loss(x, y)[0]), logits, torch.tensor(1.0)
    ),
)


class TwoLayerNet:
    def __init__(self, input_dim=12, hidden_dim=16, num_classes=3, weight_scale=1e-1, reg=1e-3):
        self.reg = reg
        self.params = {
            "W1": weight_scale * torch.randn(input_dim, hidden_dim), "b1": torch.zeros(hidden_dim),
            "W2": weight_scale * torch.randn(hidden_dim, num_classes), "b2": torch.zeros(num_classes),
        }  # fmt: skip

    def loss(self, X, y):
        h, cache1 = affine_forward(X, self.params["W1"], self.params["b1"])
        a, cache_relu = relu_forward(h)
        scores, cache2 = affine_forward(a, self.params["W2"], self.params["b2"])
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * sum((self.params[k] ** 2).sum().item() for k in ("W1", "W2"))
        grads = {}
        da, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        _, grads["W1"], grads["b1"] = affine_backward(relu_backward(da, cache_relu), cache1)
        grads["W1"] += self.reg * self.params["W1"]
        grads["W2"] += self.reg * self.params["W2"]
        return loss, grads


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", torch.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", torch.zeros_like(w))
    config.setdefault("v", torch.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw**2
    mt = config["m"] / (1 - config["beta1"] ** config["t"])
    vt = config["v"] / (1 - config["beta2"] ** config["t"])
    return w - config["learning_rate"] * mt / (torch.sqrt(vt) + config["epsilon"]), config


X = torch.randn(60, 12)
y = (X[:, :3] @ torch.tensor([[1.0, 0, -1], [0, 1, 1], [1, -1, 0]])).argmax(1)
histories, initial = {}, {k: v.clone() for k, v in TwoLayerNet().params.items()}
for name, rule, lr in (("sgd_momentum", sgd_momentum, 0.1), ("adam", adam, 1e-2)):
    model = TwoLayerNet()
    model.params = {k: v.clone() for k, v in initial.items()}
    configs = {p: {"learning_rate": lr} for p in model.params}
    histories[name] = []
    for it in range(30):
        idx = torch.arange(it * 20, it * 20 + 20) % 60
        loss, grads = model.loss(X[idx], y[idx])
        for p, w in model.params.items():
            model.params[p], configs[p] = rule(w, grads[p], configs[p])
        histories[name].append(loss)
    if name == "adam":
        adam_t = configs["W1"]["t"]
        adam_params = model.params

params = {k: v.clone().requires_grad_() for k, v in initial.items()}
optimizer = torch.optim.Adam(params.values(), lr=1e-2)
autograd_history = []
for it in range(30):
    idx = torch.arange(it * 20, it * 20 + 20) % 60
    scores = torch.relu(X[idx] @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    reg = 0.5 * 1e-3 * (params["W1"].pow(2).sum() + params["W2"].pow(2).sum())
    loss = torch.nn.functional.cross_entropy(scores, y[idx]) + reg
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    autograd_history.append(loss.item())
adam_gap = max((adam_params[k] - params[k].detach()).abs().max().item() for k in params)
torch.set_default_dtype(torch.float32)
