"""A Decision Transformer (Chen et al. 2021) as kzl/decision-transformer's model and training
code write it in plain PyTorch: returns-to-go, states and actions embedded separately plus a
learned per-timestep embedding, interleaved into one sequence ``(R_1, s_1, a_1, R_2, ...)`` with
``torch.stack(..., dim=1).permute(0, 2, 1, 3).reshape(b, 3 * T, h)``, ``embed_ln``, a
GPT trunk with a left-padding attention mask stacked the same way and a causal mask, actions
predicted from the state tokens (``x[:, 1]``) through ``tanh``, an MSE loss only on real
(unpadded) positions selected by ``attention_mask.reshape(-1) > 0``, AdamW with LambdaLR
warmup and gradient clipping; trajectories are discounted-cumsum labelled with
``torch.flip``/``cumsum``, and the trained model is rolled out in a toy 1-D reaching task
conditioned on a target return that decreases by each reward."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
STATE, ACT, K, MAX_EP = 2, 1, 6, 16


def env_step(state, action):
    """A point moves by the action; reward is minus its distance to a goal at 1.0."""
    pos = state[0] + 0.5 * action.clamp(-1, 1)[0]
    nxt = torch.stack([pos, torch.tensor(1.0) - pos])
    return nxt, -(1.0 - pos).abs()


def collect(n):
    trajs = []
    for _ in range(n):
        skill = torch.rand(1).item()
        state, states, actions, rewards = torch.tensor([0.0, 1.0]), [], [], []
        for _ in range(MAX_EP):
            expert = (1.0 - state[0]).clamp(-1, 1) * 2
            action = (skill * expert + (1 - skill) * torch.randn(1)[0] * 0.5).reshape(1)
            states.append(state)
            actions.append(action)
            state, reward = env_step(state, action)
            rewards.append(reward)
        rewards = torch.stack(rewards)
        rtg = torch.flip(torch.cumsum(torch.flip(rewards, [0]), 0), [0])
        trajs.append((torch.stack(states), torch.stack(actions), rtg))
    return trajs


class Block(nn.Module):
    """GPT-2's block as HuggingFace writes it: causal mask from a ``tril`` buffer filled with
    the dtype's minimum, padding as an additive ``(1 - mask) * -10000`` term."""

    def __init__(self, h, heads):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(h), nn.LayerNorm(h)
        self.c_attn, self.c_proj = nn.Linear(h, 3 * h), nn.Linear(h, h)
        self.attn_dropout, self.resid_dropout = nn.Dropout(0.1), nn.Dropout(0.1)
        self.mlp = nn.Sequential(
            nn.Linear(h, 4 * h), nn.GELU(approximate="tanh"), nn.Linear(4 * h, h), nn.Dropout(0.1)
        )
        self.register_buffer("bias", torch.tril(torch.ones(3 * K, 3 * K, dtype=torch.bool)))

    def forward(self, x, extended_mask):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in (q, k, v))
        w = q @ k.transpose(-1, -2) / float(v.size(-1)) ** 0.5
        w = torch.where(self.bias[:t, :t], w, torch.tensor(torch.finfo(w.dtype).min))
        w = self.attn_dropout(F.softmax(w + extended_mask, dim=-1))
        y = (w @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.resid_dropout(self.c_proj(y))
        return x + self.mlp(self.ln_2(x))


class DecisionTransformer(nn.Module):
    def __init__(self, hidden=32, layers=2, heads=2):
        super().__init__()
        self.hidden = hidden
        self.embed_timestep = nn.Embedding(MAX_EP, hidden)
        self.embed_return = nn.Linear(1, hidden)
        self.embed_state, self.embed_action = nn.Linear(STATE, hidden), nn.Linear(ACT, hidden)
        self.embed_ln = nn.LayerNorm(hidden)
        self.blocks = nn.ModuleList(Block(hidden, heads) for _ in range(layers))
        self.predict_action = nn.Sequential(nn.Linear(hidden, ACT), nn.Tanh())

    def forward(self, states, actions, returns_to_go, timesteps, attention_mask):
        b, T = states.shape[0], states.shape[1]
        time_embeddings = self.embed_timestep(timesteps)
        state_embeddings = self.embed_state(states) + time_embeddings
        action_embeddings = self.embed_action(actions) + time_embeddings
        returns_embeddings = self.embed_return(returns_to_go) + time_embeddings
        stacked = torch.stack((returns_embeddings, state_embeddings, action_embeddings), dim=1)
        stacked = stacked.permute(0, 2, 1, 3).reshape(b, 3 * T, self.hidden)
        x = self.embed_ln(stacked)
        stacked_mask = torch.stack((attention_mask,) * 3, dim=1).permute(0, 2, 1)
        extended = (1.0 - stacked_mask.reshape(b, 1, 1, 3 * T)) * -10000.0
        for block in self.blocks:
            x = block(x, extended)
        x = x.reshape(b, T, 3, self.hidden).permute(0, 2, 1, 3)
        return self.predict_action(x[:, 1]) * 2.0


def get_batch(trajs, batch_size, scale=10.0):
    s, a, r, ts, mask = [], [], [], [], []
    for i in torch.randint(0, len(trajs), (batch_size,)).tolist():
        states, actions, rtg = trajs[i]
        si = torch.randint(0, MAX_EP - 1, (1,)).item()
        end = min(si + K, MAX_EP)
        tlen, pad = end - si, K - (end - si)
        s.append(torch.cat([torch.zeros(pad, STATE), states[si:end]]))
        a.append(torch.cat([torch.ones(pad, ACT) * -10.0, actions[si:end]]))
        r.append(torch.cat([torch.zeros(pad, 1), rtg[si:end, None] / scale]))
        ts.append(torch.cat([torch.zeros(pad, dtype=torch.long), torch.arange(si, end)]))
        mask.append(torch.cat([torch.zeros(pad), torch.ones(tlen)]))
    return torch.stack(s), torch.stack(a), torch.stack(r), torch.stack(ts), torch.stack(mask)


trajs = collect(24)
returns = [t[2][0].item() for t in trajs]
model = DecisionTransformer()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
warmup = 5
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda steps: min((steps + 1) / warmup, 1))
losses = []
model.train()
for step in range(30):
    states, actions, rtg, timesteps, mask = get_batch(trajs, 16)
    action_target = actions.clone()
    action_preds = model(states, actions, rtg, timesteps, mask)
    keep = mask.reshape(-1) > 0
    loss = F.mse_loss(action_preds.reshape(-1, ACT)[keep], action_target.reshape(-1, ACT)[keep])
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    state, target_return, episode_return = torch.tensor([0.0, 1.0]), max(returns), 0.0
    states, actions = state[None], torch.zeros(1, ACT)
    rtgs, timesteps = torch.tensor([[target_return / 10.0]]), torch.zeros(1, dtype=torch.long)
    rollout = []
    for t in range(8):
        s, a, r, ts = states[-K:], actions[-K:], rtgs[-K:], timesteps[-K:]
        pad = K - s.shape[0]
        mask = torch.cat([torch.zeros(pad), torch.ones(s.shape[0])])[None]
        s = torch.cat([torch.zeros(pad, STATE), s])[None]
        a = torch.cat([torch.zeros(pad, ACT), a])[None]
        r = torch.cat([torch.zeros(pad, 1), r])[None]
        ts = torch.cat([torch.zeros(pad, dtype=torch.long), ts])[None]
        action = model(s, a, r, ts, mask)[0, -1]
        actions[-1] = action
        state, reward = env_step(state, action)
        episode_return += reward.item()
        rollout.append(state[0].item())
        states = torch.cat([states, state[None]])
        actions = torch.cat([actions, torch.zeros(1, ACT)])
        rtgs = torch.cat([rtgs, (rtgs[-1] - reward / 10.0).reshape(1, 1)])
        timesteps = torch.cat([timesteps, torch.tensor([t + 1])])
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, return {episode_return:.3f}, {rollout}")
