"""The "NLP From Scratch: Classifying Names with a Character-Level RNN" tutorial, on a small
built-in list of names: unicodeToAscii with unicodedata, one-hot letter tensors (lineToTensor),
a Dataset of (label tensor, text tensor, label, text), nn.RNN over the letters with the last
hidden state classified by LogSoftmax and NLLLoss, minibatches of names processed one by one
with the loss summed and gradients clipped, categoryFromOutput via topk, a confusion matrix,
and predict() with the top-3 guesses."""

import random
import string
import unicodedata

import torch
import torch.nn as nn
from torch.utils.data import Dataset

torch.manual_seed(0)
random.seed(0)

allowed_characters = string.ascii_letters + " .,;'" + "_"
n_letters = len(allowed_characters)


def unicodeToAscii(s):
    return "".join(
        c
        for c in unicodedata.normalize("NFD", s)
        if unicodedata.category(c) != "Mn" and c in allowed_characters
    )


def letterToIndex(letter):
    # return our out-of-vocabulary character if we encounter a letter unknown to our model
    if letter not in allowed_characters:
        return allowed_characters.find("_")
    else:
        return allowed_characters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


NAMES = {
    "Italian": "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno "
    "Gallo Conti Costa Giordano Mancini Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani "
    "Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra",
    "Japanese": "Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato "
    "Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Abe "
    "Ikeda Hashimoto Yamashita Ishikawa Nakajima Maeda Fujita Ogawa Goto Okada Hasegawa Murakami",
    "Polish": "Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Lewandowski Zielinski "
    "Szymanski Wozniak Dabrowski Kozlowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk "
    "Kaczmarek Piotrowski Grabowski Zajac Pawlowski Michalski Krol Wieczorek Jablonski Wrobel",
    "Irish": "Murphy Kelly Sullivan Walsh Smith O'Brien Byrne Ryan O'Connor O'Neill Reilly "
    "Doyle McCarthy Gallagher Doherty Kennedy Lynch Murray Quinn Moore McLoughlin O'Carroll "
    "Connolly Daly O'Connell Wilson Dunne Brennan Burke Collins Campbell Clarke Johnston Hughes",
}


class NamesDataset(Dataset):
    def __init__(self, names_by_language):
        self.data, self.data_tensors, self.labels, self.labels_tensors = [], [], [], []
        labels_set = set()
        for label, names in names_by_language.items():
            labels_set.add(label)
            for name in names.split():
                self.data.append(unicodeToAscii(name))
                self.data_tensors.append(lineToTensor(unicodeToAscii(name)))
                self.labels.append(label)
        self.labels_uniq = sorted(labels_set)
        for idx in range(len(self.labels)):
            temp_tensor = torch.tensor([self.labels_uniq.index(self.labels[idx])], dtype=torch.long)
            self.labels_tensors.append(temp_tensor)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        data_item = self.data[idx]
        data_label = self.labels[idx]
        data_tensor = self.data_tensors[idx]
        label_tensor = self.labels_tensors[idx]
        return label_tensor, data_tensor, data_label, data_item


alldata = NamesDataset(NAMES)
print(f"loaded {len(alldata)} items of data")
print(f"example = {alldata[0]}"[:120])
train_set, test_set = torch.utils.data.random_split(
    alldata, [0.85, 0.15], generator=torch.Generator().manual_seed(2024)
)
print(f"train examples = {len(train_set)}, validation examples = {len(test_set)}")


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(CharRNN, self).__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


n_hidden = 64
rnn = CharRNN(n_letters, n_hidden, len(alldata.labels_uniq))
print(rnn)


def label_from_output(output, output_labels):
    top_n, top_i = output.topk(1)
    label_i = top_i[0].item()
    return output_labels[label_i], label_i


input = lineToTensor("Albert")
output = rnn(input)  # this is equivalent to ``output = rnn.forward(input)``
print(output, label_from_output(output, alldata.labels_uniq))


def train(rnn, training_data, n_epoch=10, n_batch_size=64, report_every=50, learning_rate=0.2,
          criterion=nn.NLLLoss()):  # fmt: skip
    """Learn on a batch of training_data for a specified number of iterations and reporting thresholds"""
    current_loss = 0
    all_losses = []
    rnn.train()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=learning_rate)
    print(f"training on data set with n = {len(training_data)}")
    for iter in range(1, n_epoch + 1):
        rnn.zero_grad()  # clear the gradients
        # create some minibatches
        # we cannot use dataloaders because each of our names is a different length
        batches = list(range(len(training_data)))
        random.shuffle(batches)
        batches = [batches[i : i + n_batch_size] for i in range(0, len(batches), n_batch_size)]
        for idx, batch in enumerate(batches):
            batch_loss = 0
            for i in batch:  # for each example in this batch
                (label_tensor, text_tensor, label, text) = training_data[i]
                output = rnn.forward(text_tensor)
                loss = criterion(output, label_tensor)
                batch_loss += loss
            # optimize parameters
            batch_loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            current_loss += batch_loss.item() / len(batch)
        all_losses.append(current_loss / len(batches))
        if iter % report_every == 0:
            print(f"{iter} ({iter / n_epoch:.0%}): \t average batch loss = {all_losses[-1]}")
        current_loss = 0
    return all_losses


all_losses = train(rnn, train_set, n_epoch=9, learning_rate=0.2, report_every=3)


def evaluate(rnn, testing_data, classes):
    confusion = torch.zeros(len(classes), len(classes))
    rnn.eval()  # set to eval mode
    with torch.no_grad():  # do not record the gradients during eval phase
        for i in range(len(testing_data)):
            (label_tensor, text_tensor, label, text) = testing_data[i]
            output = rnn(text_tensor)
            guess, guess_i = label_from_output(output, classes)
            label_i = classes.index(label)
            confusion[label_i][guess_i] += 1
    # Normalize by dividing every row by its sum
    for i in range(len(classes)):
        denom = confusion[i].sum()
        if denom > 0:
            confusion[i] = confusion[i] / denom
    return confusion


train_confusion = evaluate(rnn, train_set, classes=alldata.labels_uniq)
test_confusion = evaluate(rnn, test_set, classes=alldata.labels_uniq)
train_accuracy = train_confusion.diagonal().mean().item()
print(f"train accuracy {train_accuracy:.3f}")


def predict(input_line, n_predictions=3):
    print("\n> %s" % input_line)
    with torch.no_grad():
        output = rnn(lineToTensor(unicodeToAscii(input_line)))
        # Get top N categories
        topv, topi = output.topk(n_predictions, 1, True)
        predictions = []
        for i in range(n_predictions):
            value = topv[0][i].item()
            category_index = topi[0][i].item()
            print("(%.2f) %s" % (value, alldata.labels_uniq[category_index]))
            predictions.append([value, alldata.labels_uniq[category_index]])
    return predictions


predictions = [predict(name)[0][1] for name in ("Yamasaki", "Kowalczyk", "Ó Néill", "Bianco")]
ascii_name = unicodeToAscii("Ślusàrski")
