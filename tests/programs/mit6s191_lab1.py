"""MIT 6.S191 (Introduction to Deep Learning), Lab 1 in its PyTorch edition. Part 1: tensors of
each rank (``torch.tensor(range(100))``, ``.ndim``, ``.shape``), ``torch.add``/``subtract``/
``multiply``, the lab's ``OurDenseLayer`` of ``nn.Parameter(torch.randn(...))``, an
``nn.Sequential`` of ``Linear`` and ``Sigmoid``, a model whose ``forward`` takes an
``isidentity`` flag, ``y.backward()`` on ``x * x``, and the function minimisation that rebuilds
its leaf each step with ``torch.tensor([x], requires_grad=True)`` from the previous step's
one-element tensor. Part 2: music generation with an LSTM on ABC-notation text (a tiny tune
book here): ``vectorize_string`` into a NumPy index array, ``get_batch`` with
``np.random.choice``, ``LSTMModel`` (``nn.Embedding``, ``nn.LSTM(batch_first=True)``, an
``init_hidden`` pair of zeros, ``forward(x, state, return_state)``), ``compute_loss`` on
``labels.view(-1)`` and ``logits.view(-1, logits.size(-1))``, Adam training, and
``generate_text`` sampling with ``torch.multinomial`` and decoding with ``idx2char[input_idx]``
(a NumPy array indexed by a one-element tensor)."""

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)
np.random.seed(0)

# --- Part 1: intro to PyTorch
integer = torch.tensor(1234)
decimal = torch.tensor(3.14159265359)
fibonacci = torch.tensor([1, 1, 2, 3, 5, 8])
count_to_100 = torch.tensor(range(100))
matrix = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
images = torch.zeros(10, 3, 256, 256)
ranks = [integer.ndim, decimal.ndim, fibonacci.ndim, count_to_100.ndim, matrix.ndim, images.ndim]
dtypes = [str(t.dtype) for t in (integer, decimal, fibonacci, count_to_100)]
row_vector, column_vector, scalar = matrix[1], matrix[:, 1], matrix[0, 1]
indexing = [row_vector.tolist(), column_vector.tolist(), scalar.item()]


def func(a, b):
    c = torch.add(a, b)
    d = torch.subtract(b, 1)
    e = torch.multiply(c, d)
    return e


e_out = func(torch.tensor(1.5), torch.tensor(2.5)).item()


class OurDenseLayer(torch.nn.Module):
    def __init__(self, num_inputs, num_outputs):
        super(OurDenseLayer, self).__init__()
        self.W = torch.nn.Parameter(torch.randn(num_inputs, num_outputs))
        self.bias = torch.nn.Parameter(torch.randn(num_outputs))

    def forward(self, x):
        z = torch.matmul(x, self.W) + self.bias
        y = torch.sigmoid(z)
        return y


layer = OurDenseLayer(2, 3)
x_input = torch.tensor([[1, 2.0]])
dense_out = layer(x_input).tolist()
model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid())
sequential_out = model(x_input).tolist()


class LinearButSometimesIdentity(nn.Module):
    def __init__(self, num_inputs, num_outputs):
        super(LinearButSometimesIdentity, self).__init__()
        self.linear = nn.Linear(num_inputs, num_outputs)

    def forward(self, inputs, isidentity=False):
        if isidentity:
            return inputs
        return self.linear(inputs)


identity_model = LinearButSometimesIdentity(2, 3)
identity_out = [identity_model(x_input).shape[1], identity_model(x_input, isidentity=True).tolist()]

x = torch.randn(1)
x.requires_grad_(True)
y = x * x
y.backward()
dy_dx = [x.grad.item(), 2 * x.item()]

x = torch.randn(1)
learning_rate = 1e-2
history = []
x_f = 4
for i in range(300):
    x = torch.tensor([x], requires_grad=True)
    loss = (x - x_f) ** 2
    loss.backward()
    x = x.item() - learning_rate * x.grad
    history.append(x.item())
minimisation = [history[0], history[99], history[-1], tuple(x.shape)]

# --- Part 2: music generation
songs = [
    "X:1\nT:Reel\nM:4/4\nK:D\n|:A2FA DAFA|B2GB dBGB|A2FA DAFA|d2fd edBA:|",
    "X:2\nT:Jig\nM:6/8\nK:G\n|:GAG GBd|ecA AGE|GAG GBd|edB AGE:|",
    "X:3\nT:Air\nM:3/4\nK:A\n|:A2 c2 e2|f2 e2 c2|B2 A2 F2|E6:|",
]
songs_joined = "\n\n".join(songs)
vocab = sorted(set(songs_joined))
char2idx = {u: i for i, u in enumerate(vocab)}
idx2char = np.array(vocab)


def vectorize_string(string):
    return np.array([char2idx[c] for c in string])


vectorized_songs = vectorize_string(songs_joined)


def get_batch(vectorized_songs, seq_length, batch_size):
    n = vectorized_songs.shape[0] - 1
    idx = np.random.choice(n - seq_length, batch_size)
    input_batch = [vectorized_songs[i : i + seq_length] for i in idx]
    output_batch = [vectorized_songs[i + 1 : i + seq_length + 1] for i in idx]
    x_batch = torch.tensor(input_batch, dtype=torch.long)
    y_batch = torch.tensor(output_batch, dtype=torch.long)
    return x_batch, y_batch


class LSTMModel(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_size):
        super(LSTMModel, self).__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def init_hidden(self, batch_size, device):
        return (
            torch.zeros(1, batch_size, self.hidden_size).to(device),
            torch.zeros(1, batch_size, self.hidden_size).to(device),
        )

    def forward(self, x, state=None, return_state=False):
        x = self.embedding(x)
        if state is None:
            state = self.init_hidden(x.size(0), x.device)
        out, state = self.lstm(x, state)
        out = self.fc(out)
        return out if not return_state else (out, state)


device = torch.device("cpu")
params = dict(num_training_iterations=25, batch_size=8, seq_length=20, learning_rate=1e-2, embedding_dim=16, hidden_size=32)  # fmt: skip
model = LSTMModel(len(vocab), params["embedding_dim"], params["hidden_size"]).to(device)
cross_entropy = nn.CrossEntropyLoss()


def compute_loss(labels, logits):
    batched_labels = labels.view(-1)
    batched_logits = logits.view(-1, logits.size(-1))
    return cross_entropy(batched_logits, batched_labels)


x, y = get_batch(vectorized_songs, seq_length=5, batch_size=1)
pred = model(x.to(device))
untrained_loss = compute_loss(y, pred).item()
optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])
music_losses = []
for iter in range(params["num_training_iterations"]):
    x_batch, y_batch = get_batch(vectorized_songs, params["seq_length"], params["batch_size"])
    x_batch = torch.tensor(x_batch, dtype=torch.long).to(device)
    y_batch = torch.tensor(y_batch, dtype=torch.long).to(device)
    model.train()
    optimizer.zero_grad()
    y_hat = model(x_batch)
    loss = compute_loss(y_batch, y_hat)
    loss.backward()
    optimizer.step()
    music_losses.append(loss.item())


def generate_text(model, start_string, generation_length=30):
    input_idx = [char2idx[s] for s in start_string]
    input_idx = torch.tensor([input_idx], dtype=torch.long).to(device)
    state = model.init_hidden(input_idx.size(0), device)
    text_generated = []
    for i in range(generation_length):
        predictions, state = model(input_idx, state, return_state=True)
        predictions = predictions.squeeze(0)
        input_idx = torch.multinomial(torch.softmax(predictions, dim=-1), num_samples=1)
        text_generated.append(idx2char[input_idx].item())
    return start_string + "".join(text_generated)


model.eval()
with torch.no_grad():
    generated_text = generate_text(model, start_string="X", generation_length=30)
