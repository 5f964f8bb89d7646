"""Dive into Deep Learning, chapter 16 (NLP applications), as the book writes it in PyTorch, on
tiny synthetic data: the sentiment ``BiRNN`` (``nn.LSTM(bidirectional=True)`` fed
``inputs.T``, ``self.encoder.flatten_parameters()``, the first and last steps concatenated),
initialised by the book's ``init_weights`` (``type(module) == nn.LSTM``, Xavier on
``module._parameters[param]`` for each ``weight`` name in ``module._flat_weights_names``),
frozen "pretrained" embeddings copied in with ``net.embedding.weight.data.copy_(embeds)`` and
``requires_grad = False``; and the decomposable attention model for natural language inference
(``mlp`` of dropout/linear/ReLU with an optional ``nn.Flatten(start_dim=1)``, ``Attend`` with
``torch.bmm`` of softmaxed alignments both ways, ``Compare`` on ``torch.cat`` along features,
``Aggregate`` summing over tokens); both trained by ``train_ch13``'s loop (a loss with
``reduction="none"`` summed before ``backward``), with ``predict_sentiment``/``predict_snli``."""

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)
vocab_size, num_steps = 20, 6


# --- 16.2 sentiment analysis with a bidirectional RNN
class BiRNN(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers, **kwargs):
        super(BiRNN, self).__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        # Set `bidirectional` to True to get a bidirectional RNN
        self.encoder = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers, bidirectional=True)
        self.decoder = nn.Linear(4 * num_hiddens, 2)

    def forward(self, inputs):
        # The shape of `inputs` is (batch size, no. of time steps). Because LSTM requires its
        # input's first dimension to be the temporal dimension, the input is transposed
        embeddings = self.embedding(inputs.T)
        self.encoder.flatten_parameters()
        outputs, _ = self.encoder(embeddings)
        # Concatenate the hidden states at the initial and final time steps
        encoding = torch.cat((outputs[0], outputs[-1]), dim=1)
        return self.decoder(encoding)


embed_size, num_hiddens, num_layers = 8, 8, 2
net = BiRNN(vocab_size, embed_size, num_hiddens, num_layers)


def init_weights(module):
    if type(module) == nn.Linear:  # noqa: E721 (the book keys on the exact type)
        nn.init.xavier_uniform_(module.weight)
    if type(module) == nn.LSTM:  # noqa: E721
        for param in module._flat_weights_names:
            if "weight" in param:
                nn.init.xavier_uniform_(module._parameters[param])


net.apply(init_weights)
flat_names = list(net.encoder._flat_weights_names)
embeds = torch.randn(vocab_size, embed_size)  # stands in for GloVe vectors
net.embedding.weight.data.copy_(embeds)
net.embedding.weight.requires_grad = False

positive = torch.randint(0, 10, (16, num_steps))
negative = torch.randint(10, 20, (16, num_steps))
reviews = torch.cat([positive, negative])
sentiments = torch.cat([torch.ones(16, dtype=torch.long), torch.zeros(16, dtype=torch.long)])


def train_batch_ch13(net, X, y, loss, trainer):
    net.train()
    trainer.zero_grad()
    pred = net(X)
    l = loss(pred, y)  # noqa: E741 (the book's name)
    l.sum().backward()
    trainer.step()
    return l.sum().item(), (pred.argmax(dim=1) == y).sum().item()


def train_ch13(net, features, labels, loss, trainer, num_epochs, batch_size):
    history = []
    for epoch in range(num_epochs):
        for i in range(0, len(labels), batch_size):
            X, y = features[i : i + batch_size], labels[i : i + batch_size]
            l, acc = train_batch_ch13(net, X, y, loss, trainer)  # noqa: E741
            history.append(l / y.numel())
    return history


order = torch.randperm(32)
lr, num_epochs = 0.01, 3
trainer = torch.optim.Adam(net.parameters(), lr=lr)
loss = nn.CrossEntropyLoss(reduction="none")
sentiment_losses = train_ch13(net, reviews[order], sentiments[order], loss, trainer, num_epochs, 8)
embedding_frozen = net.embedding.weight.grad is None and torch.equal(net.embedding.weight, embeds)
trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)


def predict_sentiment(net, sequence):
    sequence = torch.tensor(sequence)
    label = torch.argmax(net(sequence.reshape(1, -1)), dim=1)
    return "positive" if label == 1 else "negative"


net.eval()
predictions = [predict_sentiment(net, [1, 2, 3, 4]), predict_sentiment(net, [15, 12, 18, 11])]


# --- 16.5 natural language inference: decomposable attention
def mlp(num_inputs, num_hiddens, flatten):
    net = []
    net.append(nn.Dropout(0.2))
    net.append(nn.Linear(num_inputs, num_hiddens))
    net.append(nn.ReLU())
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    net.append(nn.Dropout(0.2))
    net.append(nn.Linear(num_hiddens, num_hiddens))
    net.append(nn.ReLU())
    if flatten:
        net.append(nn.Flatten(start_dim=1))
    return nn.Sequential(*net)


class Attend(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super(Attend, self).__init__(**kwargs)
        self.f = mlp(num_inputs, num_hiddens, flatten=False)

    def forward(self, A, B):
        f_A = self.f(A)
        f_B = self.f(B)
        e = torch.bmm(f_A, f_B.permute(0, 2, 1))
        beta = torch.bmm(F.softmax(e, dim=-1), B)
        alpha = torch.bmm(F.softmax(e.permute(0, 2, 1), dim=-1), A)
        return beta, alpha


class Compare(nn.Module):
    def __init__(self, num_inputs, num_hiddens, **kwargs):
        super(Compare, self).__init__(**kwargs)
        self.g = mlp(num_inputs, num_hiddens, flatten=False)

    def forward(self, A, B, beta, alpha):
        V_A = self.g(torch.cat([A, beta], dim=2))
        V_B = self.g(torch.cat([B, alpha], dim=2))
        return V_A, V_B


class Aggregate(nn.Module):
    def __init__(self, num_inputs, num_hiddens, num_outputs, **kwargs):
        super(Aggregate, self).__init__(**kwargs)
        self.h = mlp(num_inputs, num_hiddens, flatten=True)
        self.linear = nn.Linear(num_hiddens, num_outputs)

    def forward(self, V_A, V_B):
        V_A = V_A.sum(dim=1)
        V_B = V_B.sum(dim=1)
        return self.linear(self.h(torch.cat([V_A, V_B], dim=1)))


class DecomposableAttention(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_inputs_attend=100,
                 num_inputs_compare=200, num_inputs_agg=400, **kwargs):  # fmt: skip
        super(DecomposableAttention, self).__init__(**kwargs)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.attend = Attend(num_inputs_attend, num_hiddens)
        self.compare = Compare(num_inputs_compare, num_hiddens)
        # There are 3 possible outputs: entailment, contradiction, and neutral
        self.aggregate = Aggregate(num_inputs_agg, num_hiddens, num_outputs=3)

    def forward(self, X):
        premises, hypotheses = X
        A = self.embedding(premises)
        B = self.embedding(hypotheses)
        beta, alpha = self.attend(A, B)
        V_A, V_B = self.compare(A, B, beta, alpha)
        return self.aggregate(V_A, V_B)


embed_size, num_hiddens = 8, 16
nli = DecomposableAttention(vocab_size, embed_size, num_hiddens, 8, 16, 32)
premises = torch.randint(1, vocab_size, (24, num_steps))
labels = torch.arange(24) % 3  # 0 entailment: a copy, 1 contradiction: reversed, 2: random
hypotheses = torch.where(
    (labels == 0).unsqueeze(1), premises,
    torch.where((labels == 1).unsqueeze(1), premises.flip(1), torch.randint(1, vocab_size, (24, num_steps))),
)  # fmt: skip
attention_shapes = [tuple(t.shape) for t in nli.attend(nli.embedding(premises[:2]), nli.embedding(hypotheses[:2, :4]))]  # fmt: skip

trainer = torch.optim.Adam(nli.parameters(), lr=0.01)
nli_losses = []
for epoch in range(15):
    nli.train()
    trainer.zero_grad()
    pred = nli([premises, hypotheses])
    l = loss(pred, labels)  # noqa: E741
    l.sum().backward()
    trainer.step()
    nli_losses.append(l.mean().item())


def predict_snli(net, premise, hypothesis):
    net.eval()
    premise = torch.tensor(premise)
    hypothesis = torch.tensor(hypothesis)
    label = torch.argmax(net([premise.reshape((1, -1)), hypothesis.reshape((1, -1))]), dim=1)
    return "entailment" if label == 0 else "contradiction" if label == 1 else "neutral"


nli_predictions = [
    predict_snli(nli, premises[i].tolist(), hypotheses[i].tolist()) for i in range(6)
]
attend_grad = nli.attend.f[1].weight.grad[0, :4].tolist()
