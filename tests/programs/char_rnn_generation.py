"""The "NLP From Scratch: Generating Names with a Character-Level RNN" tutorial, as written for
PyTorch, on a few names per language: ``unicodedata`` folding to ASCII, one-hot category and
letter tensors filled by ``tensor[li][0][all_letters.find(letter)] = 1``, targets by
``torch.LongTensor``, the RNN of ``i2h``/``i2o``/``o2o`` Linear layers over ``torch.cat`` with
dropout and ``LogSoftmax``, a loss summed into ``torch.Tensor([0])`` with ``+=`` over the
letters (targets ``unsqueeze_``-d in place), plain SGD by ``p.data.add_(p.grad.data,
alpha=-lr)``, examples drawn with Python's ``random``, and sampling by ``topk`` whose 0-d
index picks a letter from a Python string (``all_letters[topi]``)."""

import random
import string
import unicodedata

import torch
import torch.nn as nn

random.seed(1)
torch.manual_seed(1)
all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1  # plus EOS marker


def unicodeToAscii(s):
    return "".join(
        c
        for c in unicodedata.normalize("NFD", s)
        if unicodedata.category(c) != "Mn" and c in all_letters
    )


category_lines = {
    "French": ["Bérénice", "Adèle", "Chloé", "Gaël", "Noël", "Léon", "Rémi", "Aimée"],
    "Spanish": ["Ángel", "Iñigo", "José", "Lucía", "María", "Raúl", "Martín", "Inés"],
    "Polish": ["Łukasz", "Kasia", "Bożena", "Jacek", "Wojtek", "Zosia", "Marek", "Ania"],
}
category_lines = {k: [unicodeToAscii(n) for n in v] for k, v in category_lines.items()}
all_categories = list(category_lines)
n_categories = len(all_categories)
ascii_sample = category_lines["Polish"][:3] + category_lines["Spanish"][:2]


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def randomChoice(l):  # noqa: E741 (the tutorial's names)
    return l[random.randint(0, len(l) - 1)]


def randomTrainingPair():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    return category, line


def categoryTensor(category):
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories)
    tensor[0][li] = 1
    return tensor


def inputTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1)  # EOS
    return torch.LongTensor(letter_indexes)


def randomTrainingExample():
    category, line = randomTrainingPair()
    return categoryTensor(category), inputTensor(line), targetTensor(line)


rnn = RNN(n_letters, 32, n_letters)
criterion = nn.NLLLoss()
learning_rate = 0.03


def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()
    rnn.zero_grad()
    loss = torch.Tensor([0])
    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        l = criterion(output, target_line_tensor[i])  # noqa: E741
        loss += l
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item() / input_line_tensor.size(0)


example = randomTrainingExample()
example_shapes = [tuple(t.shape) for t in example]
example_target = example[2].tolist()
all_losses, total_loss = [], 0
for iter in range(1, 61):
    output, loss = train(*randomTrainingExample())
    total_loss += loss
    if iter % 5 == 0:
        all_losses.append(total_loss / 5)
        total_loss = 0
loss_requires_grad = output.requires_grad
max_length = 10


def sample(category, start_letter="A"):
    with torch.no_grad():
        category_tensor = categoryTensor(category)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        for i in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = inputTensor(letter)
        return output_name


rnn.eval()
samples = [sample(c, s) for c in all_categories for s in "AMJ"]
