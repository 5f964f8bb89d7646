"""DreamerV2's world model and behaviour learning, as its PyTorch ports write them, on a tiny
ring world written in NumPy: an RSSM with a deterministic ``nn.GRUCell`` path and a stochastic
state of categorical latents sampled with ``OneHotCategoricalStraightThrough`` inside
``Independent``, KL balancing (``kl_divergence`` of the detached posterior against the prior and
of the posterior against the detached prior, mixed 0.8 / 0.2) with free nats
(``torch.maximum(kl, free)``), observation and reward heads, then imagined rollouts from the
posterior states with an actor and a critic: lambda-returns computed backwards over the horizon,
a discount weight from ``torch.cumprod``, a REINFORCE actor loss with an entropy bonus and a
critic regressed on the detached returns, a slow target critic copied by ``load_state_dict``."""

import numpy as np
import torch
import torch.distributions as td
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
N_CELLS, N_ACT, DETER, GROUPS, CLASSES, HIDDEN = 5, 2, 16, 4, 4, 24
STOCH = GROUPS * CLASSES
B, T, HORIZON, GAMMA, LAMBDA = 4, 6, 5, 0.9, 0.95
FREE_NATS, KL_BALANCE = 0.1, 0.8


def collect(rng):
    """Random walks on a ring: action 1 steps right, 0 steps left; reward 1 in cell 0."""
    pos = rng.integers(0, N_CELLS, size=B)
    obs, acts, rews = [], [], []
    for _ in range(T):
        a = rng.integers(0, N_ACT, size=B)
        pos = (pos + np.where(a == 1, 1, -1)) % N_CELLS
        obs.append(np.eye(N_CELLS)[pos])
        acts.append(np.eye(N_ACT)[a])
        rews.append((pos == 0).astype(np.float64))
    stack = [np.stack(x, 0).astype(np.float32) for x in (obs, acts, rews)]
    return [torch.from_numpy(x) for x in stack]  # (T, B, ...)


class RSSM(nn.Module):
    def __init__(self):
        super().__init__()
        self.img_in = nn.Sequential(nn.Linear(STOCH + N_ACT, HIDDEN), nn.ELU())
        self.cell = nn.GRUCell(HIDDEN, DETER)
        self.prior_head = nn.Sequential(
            nn.Linear(DETER, HIDDEN), nn.ELU(), nn.Linear(HIDDEN, STOCH)
        )
        self.post_head = nn.Sequential(
            nn.Linear(DETER + HIDDEN, HIDDEN), nn.ELU(), nn.Linear(HIDDEN, STOCH)
        )

    def initial(self, batch):
        return dict(
            logits=torch.zeros(batch, GROUPS, CLASSES),
            stoch=torch.zeros(batch, GROUPS, CLASSES),
            deter=torch.zeros(batch, DETER),
        )

    @staticmethod
    def dist(logits):
        return td.Independent(td.OneHotCategoricalStraightThrough(logits=logits), 1)

    def img_step(self, state, action):
        x = self.img_in(torch.cat([state["stoch"].flatten(1), action], -1))
        deter = self.cell(x, state["deter"])
        logits = self.prior_head(deter).reshape(-1, GROUPS, CLASSES)
        return dict(logits=logits, stoch=self.dist(logits).rsample(), deter=deter)

    def obs_step(self, state, action, embed):
        prior = self.img_step(state, action)
        x = torch.cat([prior["deter"], embed], -1)
        logits = self.post_head(x).reshape(-1, GROUPS, CLASSES)
        post = dict(logits=logits, stoch=self.dist(logits).rsample(), deter=prior["deter"])
        return post, prior

    def observe(self, embeds, actions):
        state = self.initial(embeds.shape[1])
        posts, priors = [], []
        for t in range(embeds.shape[0]):
            state, prior = self.obs_step(state, actions[t], embeds[t])
            posts.append(state)
            priors.append(prior)
        stack = lambda seq: {k: torch.stack([s[k] for s in seq], 0) for k in seq[0]}  # noqa: E731
        return stack(posts), stack(priors)


def feat(state):
    return torch.cat([state["stoch"].flatten(-2), state["deter"]], -1)


def kl_loss(post, prior):
    sg = lambda s: {k: v.detach() for k, v in s.items()}  # noqa: E731
    lhs = td.kl_divergence(RSSM.dist(sg(post)["logits"]), RSSM.dist(prior["logits"]))
    rhs = td.kl_divergence(RSSM.dist(post["logits"]), RSSM.dist(sg(prior)["logits"]))
    free = torch.tensor(FREE_NATS)
    loss_lhs, loss_rhs = torch.maximum(lhs.mean(), free), torch.maximum(rhs.mean(), free)
    return KL_BALANCE * loss_lhs + (1 - KL_BALANCE) * loss_rhs, rhs.mean()


def mlp(out):
    return nn.Sequential(nn.Linear(STOCH + DETER, HIDDEN), nn.ELU(), nn.Linear(HIDDEN, out))


def lambda_return(reward, value, discount, bootstrap, lambda_):
    next_values = torch.cat([value[1:], bootstrap[None]], 0)
    inputs = reward + discount * next_values * (1 - lambda_)
    last, outputs = bootstrap, []
    for t in reversed(range(reward.shape[0])):
        last = inputs[t] + discount[t] * lambda_ * last
        outputs.append(last)
    return torch.stack(outputs[::-1], 0)


encoder = nn.Sequential(nn.Linear(N_CELLS, HIDDEN), nn.ELU())
rssm, decoder, reward_head = RSSM(), mlp(N_CELLS), mlp(1)
actor, critic, target_critic = mlp(N_ACT), mlp(1), mlp(1)
target_critic.load_state_dict(critic.state_dict())
world_params = [*encoder.parameters(), *rssm.parameters(), *decoder.parameters()]
world_params += list(reward_head.parameters())
world_opt = torch.optim.Adam(world_params, lr=3e-3, eps=1e-5)
actor_opt = torch.optim.Adam(actor.parameters(), lr=1e-3, eps=1e-5)
critic_opt = torch.optim.Adam(critic.parameters(), lr=1e-3, eps=1e-5)


def imagine(start):
    state = {k: v.detach().reshape(-1, *v.shape[2:]) for k, v in start.items()}
    feats, actions, entropies = [feat(state)], [], []
    for _ in range(HORIZON):
        policy = td.OneHotCategoricalStraightThrough(logits=actor(feats[-1].detach()))
        actions.append(policy.rsample())
        entropies.append(policy.entropy())
        state = rssm.img_step(state, actions[-1])
        feats.append(feat(state))
    return torch.stack(feats, 0), torch.stack(actions, 0), torch.stack(entropies, 0)


rng = np.random.default_rng(0)
world_losses, kl_values, recon_losses, actor_losses, critic_losses = [], [], [], [], []
for step in range(12):
    obs, acts, rews = collect(rng)
    prev_acts = torch.cat([torch.zeros_like(acts[:1]), acts[:-1]], 0)
    post, prior = rssm.observe(encoder(obs), prev_acts)
    features = feat(post)
    recon = F.mse_loss(decoder(features), obs)
    reward_loss = F.mse_loss(reward_head(features).squeeze(-1), rews)
    kl, kl_value = kl_loss(post, prior)
    loss = recon + reward_loss + kl
    world_opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(world_params, 100.0)
    world_opt.step()
    world_losses.append(loss.item())
    kl_values.append(kl_value.item())
    recon_losses.append(recon.item())

    for p in world_params:
        p.requires_grad_(False)
    imag_feat, imag_action, entropy = imagine(post)
    reward = reward_head(imag_feat[1:]).squeeze(-1)
    value = target_critic(imag_feat[1:]).squeeze(-1)
    discount = GAMMA * torch.ones_like(reward)
    returns = lambda_return(reward, value, discount, value[-1], LAMBDA)
    weight = torch.cumprod(torch.cat([torch.ones_like(discount[:1]), discount[:-1]], 0), 0).detach()
    logits = actor(imag_feat[:-1].detach())
    baseline = target_critic(imag_feat[:-1]).squeeze(-1)
    advantage = (returns - baseline).detach()
    log_prob = td.OneHotCategorical(logits=logits).log_prob(imag_action.detach())
    actor_loss = -(weight * (log_prob * advantage + 1e-3 * entropy)).mean()
    actor_opt.zero_grad()
    actor_loss.backward()
    actor_opt.step()
    critic_loss = 0.5 * (critic(imag_feat[:-1].detach()).squeeze(-1) - returns.detach()) ** 2
    critic_loss = (weight * critic_loss).mean()
    critic_opt.zero_grad()
    critic_loss.backward()
    critic_opt.step()
    for p in world_params:
        p.requires_grad_(True)
    if step % 4 == 3:
        target_critic.load_state_dict(critic.state_dict())
    actor_losses.append(actor_loss.item())
    critic_losses.append(critic_loss.item())

sample = RSSM.dist(post["logits"][0]).rsample()
straight_through = [sample.sum(-1).tolist()[0], sample.requires_grad]
state_shapes = {k: tuple(v.shape) for k, v in post.items()}
imagined_shape = tuple(imag_feat.shape)
latent_repr = repr(RSSM.dist(post["logits"][0]))
policy_dist = td.OneHotCategoricalStraightThrough(logits=logits[0])
policy_repr = [repr(policy_dist), repr(td.Categorical(logits=logits[0]))]
