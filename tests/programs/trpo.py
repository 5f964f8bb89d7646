"""The natural-gradient step of TRPO (Schulman et al. 2015) as ikostrikov/pytorch-trpo writes
it: the policy's parameters flattened with torch.nn.utils.parameters_to_vector, the
Fisher-vector product as a Hessian-vector product of the mean KL divergence (autograd.grad
with create_graph=True, then the gradient of grad . v), conjugate gradient to solve F x = g,
a backtracking line search on the surrogate advantage written back with
vector_to_parameters, on a contextual bandit with a softmax policy."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

rng = np.random.default_rng(0)
num_actions = 3
reward_weights = randn(rng, 4, num_actions)

policy = init_from_numpy(nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, num_actions)))


def conjugate_gradients(Avp, b, nsteps, residual_tol=1e-10):
    x = torch.zeros(b.size())
    r = b.clone()
    p = b.clone()
    rdotr = torch.dot(r, r)
    for i in range(nsteps):
        _Avp = Avp(p)
        alpha = rdotr / torch.dot(p, _Avp)
        x += alpha * p
        r -= alpha * _Avp
        new_rdotr = torch.dot(r, r)
        betta = new_rdotr / rdotr
        p = r + betta * p
        rdotr = new_rdotr
        if rdotr < residual_tol:
            break
    return x


def get_flat_grad_from(outputs, create_graph=False):
    grads = torch.autograd.grad(outputs, list(policy.parameters()), create_graph=create_graph)
    return torch.cat([g.contiguous().view(-1) for g in grads])


def trpo_step(states, actions, advantages, max_kl=0.01, damping=0.1):
    with torch.no_grad():
        fixed_log_probs = (
            F.log_softmax(policy(states), dim=1).gather(1, actions[:, None]).squeeze(1)
        )
        old_probs = F.softmax(policy(states), dim=1)

    def get_loss():
        log_probs = F.log_softmax(policy(states), dim=1).gather(1, actions[:, None]).squeeze(1)
        return -(advantages * torch.exp(log_probs - fixed_log_probs)).mean()

    def get_kl():
        log_probs = F.log_softmax(policy(states), dim=1)
        return F.kl_div(log_probs, old_probs, reduction="batchmean")

    def Fvp(v):
        kl = get_kl()
        grads = get_flat_grad_from(kl, create_graph=True)
        kl_v = (grads * v).sum()
        return get_flat_grad_from(kl_v) + v * damping

    loss = get_loss()
    loss_grad = get_flat_grad_from(loss)
    stepdir = conjugate_gradients(Fvp, -loss_grad, 10)
    shs = 0.5 * (stepdir * Fvp(stepdir)).sum(0, keepdim=True)
    lm = torch.sqrt(shs / max_kl)
    fullstep = stepdir / lm[0]
    old_params = parameters_to_vector(policy.parameters()).detach()
    expected_improve = (-loss_grad * fullstep).sum().item()
    for fraction in 0.5 ** np.arange(10):
        vector_to_parameters(old_params + float(fraction) * fullstep, policy.parameters())
        with torch.no_grad():
            new_loss, kl = get_loss().item(), get_kl().item()
        if new_loss < loss.item() and kl <= 1.5 * max_kl:
            return loss.item(), new_loss, kl, expected_improve, Fvp(stepdir), stepdir
    vector_to_parameters(old_params, policy.parameters())
    return loss.item(), loss.item(), 0.0, expected_improve, Fvp(stepdir), stepdir


rewards, kls, cg_residuals = [], [], []
for iteration in range(12):
    states = randn(rng, 128, 4)
    with torch.no_grad():
        probs = F.softmax(policy(states), dim=1)
    actions = torch.from_numpy(
        np.array([rng.choice(num_actions, p=p / p.sum()) for p in probs.double().numpy()])
    )
    reward = (states @ reward_weights).gather(1, actions[:, None]).squeeze(1)
    advantages = (reward - reward.mean()) / (reward.std() + 1e-8)
    old_loss, new_loss, kl, expected, fvp_dir, stepdir = trpo_step(states, actions, advantages)
    rewards.append(reward.mean().item())
    kls.append(kl)
    print(f"iteration {iteration}: mean reward {rewards[-1]:.3f}, KL {kl:.4f}")
num_params = parameters_to_vector(policy.parameters()).numel()
