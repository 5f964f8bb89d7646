"""AlphaZero on tic-tac-toe, as alpha-zero-general and its many PyTorch ports write it: a small
residual policy/value network (``Conv2d``, ``BatchNorm2d``, a policy head masked to the legal
moves with ``masked_fill(~valid, -inf)``, a ``tanh`` value head), PUCT Monte-Carlo tree search
on dictionaries of visit counts and priors with Dirichlet noise at the root, self-play with a
temperature (``counts ** (1 / temp)`` for the opening moves, the most visited move after) and
moves drawn with ``torch.multinomial``, the examples augmented with the board's eight
symmetries (``torch.rot90``, ``torch.flip``), and training on
``-(pi * log_softmax).sum(1).mean() + mse(v, z)`` from a shuffled ``DataLoader``."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
SIMS, CPUCT, TEMP_MOVES = 12, 1.5, 3


def winner(board):
    for a, b, c in LINES:
        if board[a] != 0 and board[a] == board[b] == board[c]:
            return board[a]
    return 0 if 0 in board else None  # None: a draw


def encode(board, player):
    """Planes: the player to move's stones and the opponent's."""
    b = torch.tensor(board, dtype=torch.float32).view(3, 3) * player
    return torch.stack([(b == 1).float(), (b == -1).float()])


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch)
        self.conv2, self.bn2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(out)))


class PolicyValueNet(nn.Module):
    def __init__(self, ch=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch))
        self.res = ResBlock(ch)
        self.policy_conv = nn.Conv2d(ch, 2, 1)
        self.policy_fc = nn.Linear(18, 9)
        self.value_conv = nn.Conv2d(ch, 1, 1)
        self.value_fc = nn.Sequential(nn.Linear(9, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x, valid):
        x = self.res(F.relu(self.stem(x)))
        logits = self.policy_fc(F.relu(self.policy_conv(x)).flatten(1))
        logits = logits.masked_fill(~valid, float("-inf"))
        value = torch.tanh(self.value_fc(F.relu(self.value_conv(x)).flatten(1)))
        return F.log_softmax(logits, dim=1), value.squeeze(1)


class MCTS:
    def __init__(self, net, rng):
        self.net, self.rng = net, rng
        self.Qsa, self.Nsa, self.Ns, self.Ps = {}, {}, {}, {}

    def evaluate(self, board, player):
        valid = torch.tensor([c == 0 for c in board])
        self.net.eval()
        with torch.no_grad():
            log_pi, v = self.net(encode(board, player)[None], valid[None])
        return log_pi.exp()[0].numpy(), v.item()

    def search(self, board, player):
        """The value of ``board`` for the player who just moved (negamax)."""
        result = winner(board)
        if result is None:
            return 0.0
        if result != 0:
            return 1.0  # the previous move won
        s = (tuple(board), player)
        if s not in self.Ps:
            probs, v = self.evaluate(board, player)
            if not self.Ns and self.rng is not None:
                legal = [a for a in range(9) if board[a] == 0]
                noise = self.rng.dirichlet([0.3] * len(legal))
                probs = probs.copy()
                probs[legal] = 0.75 * probs[legal] + 0.25 * noise
            self.Ps[s], self.Ns[s] = probs, 0
            return -v
        best, best_u = None, -math.inf
        for a in range(9):
            if board[a] != 0:
                continue
            q = self.Qsa.get((s, a), 0.0)
            u = q + CPUCT * self.Ps[s][a] * math.sqrt(self.Ns[s] + 1e-8) / (
                1 + self.Nsa.get((s, a), 0)
            )
            if u > best_u:
                best, best_u = a, u
        child = list(board)
        child[best] = player
        v = self.search(child, -player)
        n = self.Nsa.get((s, best), 0)
        self.Qsa[(s, best)] = (n * self.Qsa.get((s, best), 0.0) + v) / (n + 1)
        self.Nsa[(s, best)] = n + 1
        self.Ns[s] += 1
        return -v

    def action_probs(self, board, player, temp):
        for _ in range(SIMS):
            self.search(board, player)
        s = (tuple(board), player)
        counts = torch.tensor([self.Nsa.get((s, a), 0) for a in range(9)], dtype=torch.float64)
        if temp == 0:
            probs = torch.zeros(9, dtype=torch.float64)
            probs[torch.argmax(counts)] = 1.0
            return probs
        counts = counts ** (1.0 / temp)
        return counts / counts.sum()


def self_play(net, rng):
    board, player, history, mcts = [0] * 9, 1, [], MCTS(net, rng)
    while winner(board) == 0:
        temp = 1.0 if len(history) < TEMP_MOVES else 0
        pi = mcts.action_probs(board, player, temp)
        history.append((encode(board, player), pi.float(), player))
        move = torch.multinomial(pi, 1).item()
        board[move] = player
        player = -player
    result = winner(board)
    outcome = 0.0 if result is None else float(result)
    return [(x, pi, outcome * p) for x, pi, p in history], board


def symmetries(planes, pi):
    board_pi = pi.view(3, 3)
    out = []
    for k in range(4):
        for flip in (False, True):
            x, p = torch.rot90(planes, k, dims=(1, 2)), torch.rot90(board_pi, k)
            if flip:
                x, p = torch.flip(x, dims=[2]), torch.fliplr(p)
            out.append((x, p.reshape(9)))
    return out


net = PolicyValueNet()
optimizer = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
rng = np.random.default_rng(0)
examples, final_boards, losses = [], [], []
for iteration in range(2):
    for _ in range(2):
        game, board = self_play(net, rng)
        final_boards.append(board)
        for planes, pi, z in game:
            examples += [(x, p, z) for x, p in symmetries(planes, pi)]
    xs = torch.stack([e[0] for e in examples])
    pis = torch.stack([e[1] for e in examples])
    zs = torch.tensor([e[2] for e in examples])
    loader = DataLoader(TensorDataset(xs, pis, zs), batch_size=32, shuffle=True)
    net.train()
    for epoch in range(3):
        for x, target_pi, target_v in loader:
            valid = x[:, 0].flatten(1) + x[:, 1].flatten(1) == 0
            log_pi, v = net(x, valid)
            pi_loss = -(target_pi * log_pi.masked_fill(~valid, 0.0)).sum(1).mean()
            v_loss = F.mse_loss(v, target_v)
            loss = pi_loss + v_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append([pi_loss.item(), v_loss.item()])

n_examples = len(examples)
planes, pi = examples[-8][0], examples[-8][1]  # the last game's last position, as played
views = symmetries(planes, pi)
symmetric_ok = [
    torch.equal(torch.rot90(views[2][0], -1, dims=(1, 2)), planes),
    torch.equal(torch.flip(views[1][0], dims=[2]), planes),
    all(p.sum().item() == pi.sum().item() for _, p in views),
]
# the network's view of a position where X (to move) wins at once by playing cell 2
mcts = MCTS(net, None)
winning = [1, 1, 0, -1, -1, 0, 0, 0, 0]
search_probs = mcts.action_probs(winning, 1, 1.0).tolist()
net.eval()
with torch.no_grad():
    valid = torch.tensor([[c == 0 for c in winning]])
    log_pi, value = net(encode(winning, 1)[None], valid)
policy = log_pi.exp()[0].tolist()
masked_cells = [math.isinf(x) for x in log_pi[0].tolist()]
root_value = value.item()
bn_running = net.stem[1].running_mean[:3].tolist()
