"""Sebastian Raschka's "Machine Learning with PyTorch and Scikit-Learn", the RNN chapter: a
sentiment LSTM over a ``Counter``/``OrderedDict`` vocabulary with ``collate_batch`` padding by
``pad_sequence``, ``Embedding(padding_idx=0)`` and ``pack_padded_sequence(...,
lengths.cpu().numpy(), enforce_sorted=False, batch_first=True)`` read from ``hidden[-1, :, :]``
with ``BCELoss``; then the character-level LSTM text generator: a chunked ``TextDataset``,
``init_hidden`` returning ``(hidden, cell)``, the loss summed over time steps one character at
a time, and ``sample`` drawing from ``Categorical(logits=...)`` with a scale factor."""

import re
from collections import Counter, OrderedDict

import numpy as np
import torch
import torch.nn as nn
from torch.distributions.categorical import Categorical
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(1)
pos_words, neg_words = ["great", "fun", "superb", "loved"], ["dull", "awful", "boring", "hated"]
fill = ["the", "movie", "was", "plot", "and", "i", "it", "acting"]
reviews = []
for i in range(48):
    n = int(torch.randint(4, 11, ()).item())
    words = [fill[j] for j in torch.randint(0, len(fill), (n,)).tolist()]
    label = i % 2
    mood = pos_words if label else neg_words
    words[int(torch.randint(0, n, ()).item())] = mood[int(torch.randint(0, 4, ()).item())]
    reviews.append((label, " ".join(words) + (" <br />!" if i % 5 == 0 else "")))


def tokenizer(text):
    text = re.sub("<[^>]*>", "", text)
    emoticons = re.findall(r"(?::|;|=)(?:-)?(?:\)|\(|D|P)", text.lower())
    text = re.sub(r"[\W]+", " ", text.lower()) + " ".join(emoticons).replace("-", "")
    return text.split()


token_counts = Counter()
for label, line in reviews[:32]:
    token_counts.update(tokenizer(line))
sorted_by_freq_tuples = sorted(token_counts.items(), key=lambda x: x[1], reverse=True)
ordered_dict = OrderedDict(sorted_by_freq_tuples)
vocab = {"<pad>": 0, "<unk>": 1}
for token in ordered_dict:
    vocab[token] = len(vocab)


def text_pipeline(x):
    return [vocab.get(token, 1) for token in tokenizer(x)]


def collate_batch(batch):
    label_list, text_list, lengths = [], [], []
    for _label, _text in batch:
        label_list.append(float(_label))
        processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
        text_list.append(processed_text)
        lengths.append(processed_text.size(0))
    label_list, lengths = torch.tensor(label_list), torch.tensor(lengths)
    padded_text_list = nn.utils.rnn.pad_sequence(text_list, batch_first=True)
    return padded_text_list, label_list, lengths


class RNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, rnn_hidden_size, fc_hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = nn.LSTM(embed_dim, rnn_hidden_size, batch_first=True)
        self.fc1 = nn.Linear(rnn_hidden_size, fc_hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(fc_hidden_size, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, text, lengths):
        out = self.embedding(text)
        out = nn.utils.rnn.pack_padded_sequence(
            out, lengths.cpu().numpy(), enforce_sorted=False, batch_first=True
        )
        out, (hidden, cell) = self.rnn(out)
        out = hidden[-1, :, :]
        return self.sigmoid(self.fc2(self.relu(self.fc1(out))))


def train(dataloader):
    model.train()
    total_acc, total_loss = 0, 0
    for text_batch, label_batch, lengths in dataloader:
        optimizer.zero_grad()
        pred = model(text_batch, lengths)[:, 0]
        loss = loss_fn(pred, label_batch)
        loss.backward()
        optimizer.step()
        total_acc += ((pred >= 0.5).float() == label_batch).float().sum().item()
        total_loss += loss.item() * label_batch.size(0)
    return total_acc / len(dataloader.dataset), total_loss / len(dataloader.dataset)


def evaluate(dataloader):
    model.eval()
    total_acc = 0
    with torch.no_grad():
        for text_batch, label_batch, lengths in dataloader:
            pred = model(text_batch, lengths)[:, 0]
            total_acc += ((pred >= 0.5).float() == label_batch).float().sum().item()
    return total_acc / len(dataloader.dataset)


first_batch = collate_batch(reviews[:4])
padded_shape, first_lengths = tuple(first_batch[0].shape), first_batch[2].tolist()
train_dl = DataLoader(reviews[:32], batch_size=8, shuffle=True, collate_fn=collate_batch)
valid_dl = DataLoader(reviews[32:], batch_size=8, shuffle=False, collate_fn=collate_batch)
torch.manual_seed(1)
model = RNN(len(vocab), 8, 12, 8)
loss_fn = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
sentiment_log = []
for epoch in range(6):
    acc_train, loss_train = train(train_dl)
    sentiment_log.append((acc_train, loss_train))
    print(f"Epoch {epoch} accuracy: {acc_train:.4f} loss: {loss_train:.4f}")
valid_accuracy = evaluate(valid_dl)

text = "the island was quiet and the sea was calm; " * 6
char_set = sorted(set(text))
char2int = {ch: i for i, ch in enumerate(char_set)}
char_array = np.array(char_set)
text_encoded = np.array([char2int[ch] for ch in text], dtype=np.int32)
seq_length = 12
chunk_size = seq_length + 1
text_chunks = [text_encoded[i : i + chunk_size] for i in range(len(text_encoded) - chunk_size)]


class TextDataset(Dataset):
    def __init__(self, text_chunks):
        self.text_chunks = text_chunks

    def __len__(self):
        return len(self.text_chunks)

    def __getitem__(self, idx):
        text_chunk = self.text_chunks[idx]
        return text_chunk[:-1].long(), text_chunk[1:].long()


class CharRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, rnn_hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn_hidden_size = rnn_hidden_size
        self.rnn = nn.LSTM(embed_dim, rnn_hidden_size, batch_first=True)
        self.fc = nn.Linear(rnn_hidden_size, vocab_size)

    def forward(self, x, hidden, cell):
        out = self.embedding(x).unsqueeze(1)
        out, (hidden, cell) = self.rnn(out, (hidden, cell))
        return self.fc(out).reshape(out.size(0), -1), hidden, cell

    def init_hidden(self, batch_size):
        hidden = torch.zeros(1, batch_size, self.rnn_hidden_size)
        cell = torch.zeros(1, batch_size, self.rnn_hidden_size)
        return hidden, cell


seq_dataset = TextDataset(torch.tensor(np.array(text_chunks)))
torch.manual_seed(1)
seq_dl = DataLoader(seq_dataset, batch_size=16, shuffle=True, drop_last=True)
char_model = CharRNN(len(char_array), 8, 24)
criterion = nn.CrossEntropyLoss()
char_optimizer = torch.optim.Adam(char_model.parameters(), lr=0.01)
char_losses = []
for epoch in range(30):
    hidden, cell = char_model.init_hidden(16)
    seq_batch, target_batch = next(iter(seq_dl))
    char_optimizer.zero_grad()
    loss = 0
    for c in range(seq_length):
        pred, hidden, cell = char_model(seq_batch[:, c], hidden, cell)
        loss += criterion(pred, target_batch[:, c])
    loss.backward()
    char_optimizer.step()
    char_losses.append(loss.item() / seq_length)


def sample(model, starting_str, len_generated_text=30, scale_factor=1.0):
    encoded_input = torch.tensor([char2int[s] for s in starting_str])
    encoded_input = torch.reshape(encoded_input, (1, -1))
    generated_str = starting_str
    model.eval()
    hidden, cell = model.init_hidden(1)
    for c in range(len(starting_str) - 1):
        _, hidden, cell = model(encoded_input[:, c].view(1), hidden, cell)
    last_char = encoded_input[:, -1]
    for i in range(len_generated_text):
        logits, hidden, cell = model(last_char.view(1), hidden, cell)
        logits = torch.squeeze(logits, 0)
        scaled_logits = logits * scale_factor
        m = Categorical(logits=scaled_logits)
        last_char = m.sample()
        generated_str += str(char_array[last_char])
    return generated_str


torch.manual_seed(1)
generated = sample(char_model, starting_str="the island", scale_factor=2.0)
print(generated)
