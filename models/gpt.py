"""``GPT``: a small decoder-only transformer language model, with ``generate()``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import minigrad
from minigrad import nn
from minigrad.nn import functional as F


@dataclass
class GPTConfig:
    """The size of a :class:`GPT`.

    Attributes:
        vocab_size: number of tokens; block_size: the longest context.
        n_layer: decoder blocks; n_head: attention heads; n_embd: width (divisible by n_head).
        dropout: on embeddings, attention and MLP outputs (training only).
        activation: the blocks' MLP activation; ``"gelu_tanh"`` is GPT-2's approximation.
    """

    vocab_size: int
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    activation: str = "gelu_tanh"


class GPT(nn.Module):
    """A GPT-2-style language model (Radford et al., 2019), as in Karpathy's nanoGPT.

    Token and learned position embeddings, ``n_layer`` pre-norm decoder blocks
    (``nn.TransformerDecoderBlock``: causal multi-head self-attention and a GELU MLP, each in a
    residual branch), a final LayerNorm and a linear head whose weight is tied to the token
    embedding. Residual output projections start with std ``0.02/√(2·n_layer)``, as GPT-2.

    Args:
        config: a :class:`GPTConfig`, or pass its fields as keywords.

    Shape:
        ``forward(idx)``: (B, T) int64 token ids, T ≤ block_size → (B, T, vocab_size) logits;
        with ``targets`` (B, T) it returns ``(logits, loss)``.

    Example:
        >>> model = GPT(vocab_size=65, block_size=32, n_layer=2, n_head=2, n_embd=32)
        >>> logits, loss = model(idx, targets)
        >>> out = model.generate(idx[:1, :5], max_new_tokens=20, temperature=0.8, top_k=10)
    """

    def __init__(self, config: GPTConfig | None = None, **kwargs):
        super().__init__()
        self.config = config if config is not None else GPTConfig(**kwargs)
        c = self.config
        self.tok_emb = nn.Embedding(c.vocab_size, c.n_embd)
        self.pos_emb = nn.Embedding(c.block_size, c.n_embd)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            [
                nn.TransformerDecoderBlock(
                    c.n_embd, c.n_head, dropout=c.dropout, activation=c.activation
                )
                for _ in range(c.n_layer)
            ]
        )
        self.ln_f = nn.LayerNorm(c.n_embd)
        self.head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying (Press & Wolf, 2017)
        self._init_weights()

    def _init_weights(self) -> None:
        for name, p in self.named_parameters():
            if p.ndim == 2:  # Linear and Embedding weights
                std = 0.02
                if name.endswith(("out_proj.weight", "fc2.weight")):
                    std /= math.sqrt(2 * self.config.n_layer)
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets=None):
        b, t = idx.shape
        if t > self.config.block_size:
            raise ValueError(
                f"GPT: sequence length {t} exceeds block_size {self.config.block_size}"
            )
        pos = minigrad.arange(t, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.reshape(b * t, -1), targets.reshape(b * t))
        return logits, loss

    @minigrad.no_grad()
    def generate(
        self, idx, max_new_tokens: int, temperature: float = 1.0, top_k=None, generator=None
    ):
        """Extend each row of ``idx`` by ``max_new_tokens`` sampled tokens.

        Each step feeds the last ``block_size`` tokens, divides the last logits by
        ``temperature``, keeps the ``top_k`` largest (if given), and draws the next token with
        ``minigrad.multinomial`` from the softmax.

        Args:
            idx: (B, T) int64 prompt tokens (T ≥ 1).
            max_new_tokens: how many tokens to add.
            temperature: > 0; lower is greedier.
            top_k: sample only among the k most likely tokens (None: all).
            generator: a ``minigrad.Generator`` for reproducible samples.

        Returns:
            (B, T + max_new_tokens) int64 tokens, the prompt first.
        """
        if temperature <= 0:
            raise ValueError(f"GPT.generate: temperature must be > 0, got {temperature}")
        if top_k is not None and not 1 <= top_k <= self.config.vocab_size:
            raise ValueError(
                f"GPT.generate: top_k must be in [1, {self.config.vocab_size}], got {top_k}"
            )
        was_training = self.training
        self.eval()
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.config.block_size :])[:, -1, :] / temperature
            if top_k is not None:
                logits = logits.masked_fill(logits < _kth_largest(logits, top_k), -math.inf)
            probs = F.softmax(logits, dim=-1)
            # One draw per row: with or without replacement is the same distribution.
            nxt = minigrad.multinomial(probs, 1, replacement=True, generator=generator)
            idx = minigrad.cat([idx, nxt], dim=1)
        self.train(was_training)
        return idx


def _kth_largest(logits, k: int):
    """(B, V) → (B, 1): each row's k-th largest value."""
    return minigrad.topk(logits, k, dim=-1).values[:, -1:]
