"""Robert Guthrie's "Deep Learning for NLP with PyTorch" tutorials, as written for PyTorch
(``torch.manual_seed(1)`` at the top, as there): the bag-of-words logistic regression
(``vec[word_to_ix[word]] += 1``, ``torch.LongTensor([...])`` targets, ``NLLLoss``, plain SGD,
the weight column of one word read by ``next(model.parameters())[:, ix]`` before and after),
the N-gram language model on Shakespeare's sonnet (``embeddings(inputs).view((1, -1))``), the
CBOW exercise, and the sequence-models part: an ``nn.LSTM`` stepped one element at a time with
an explicit ``(h, c)`` tuple against the whole sequence at once, and the LSTM part-of-speech
tagger (``lstm_out.view(len(sentence), -1)``) trained on the two example sentences."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

# --- bag of words
data = [
    ("me gusta comer en la cafeteria".split(), "SPANISH"),
    ("Give it to me".split(), "ENGLISH"),
    ("No creo que sea una buena idea".split(), "SPANISH"),
    ("No it is not a good idea to get lost at sea".split(), "ENGLISH"),
]
test_data = [
    ("Yo creo que si".split(), "SPANISH"),
    ("it is lost on me".split(), "ENGLISH"),
]
word_to_ix = {}
for sent, _ in data + test_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
VOCAB_SIZE, NUM_LABELS = len(word_to_ix), 2


class BoWClassifier(nn.Module):
    def __init__(self, num_labels, vocab_size):
        super(BoWClassifier, self).__init__()
        self.linear = nn.Linear(vocab_size, num_labels)

    def forward(self, bow_vec):
        return F.log_softmax(self.linear(bow_vec), dim=1)


def make_bow_vector(sentence, word_to_ix):
    vec = torch.zeros(len(word_to_ix))
    for word in sentence:
        vec[word_to_ix[word]] += 1
    return vec.view(1, -1)


def make_target(label, label_to_ix):
    return torch.LongTensor([label_to_ix[label]])


model = BoWClassifier(NUM_LABELS, VOCAB_SIZE)
label_to_ix = {"SPANISH": 0, "ENGLISH": 1}
creo_before = next(model.parameters())[:, word_to_ix["creo"]].tolist()
loss_function = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)
for epoch in range(50):
    for instance, label in data:
        model.zero_grad()
        bow_vec = make_bow_vector(instance, word_to_ix)
        target = make_target(label, label_to_ix)
        loss = loss_function(model(bow_vec), target)
        loss.backward()
        optimizer.step()
with torch.no_grad():
    bow_test = [model(make_bow_vector(i, word_to_ix)).tolist() for i, _ in test_data]
creo_after = next(model.parameters())[:, word_to_ix["creo"]].tolist()

# --- N-gram language model and CBOW
CONTEXT_SIZE, EMBEDDING_DIM = 2, 10
test_sentence = """When forty winters shall besiege thy brow,
And dig deep trenches in thy beauty's field,
Thy youth's proud livery so gazed on now,
Will be a totter'd weed of small worth held:""".split()
ngrams = [
    ([test_sentence[i - j - 1] for j in range(CONTEXT_SIZE)], test_sentence[i])
    for i in range(CONTEXT_SIZE, len(test_sentence))
]
vocab = set(test_sentence)
word_to_ix = {word: i for i, word in enumerate(sorted(vocab))}


class NGramLanguageModeler(nn.Module):
    def __init__(self, vocab_size, embedding_dim, context_size):
        super(NGramLanguageModeler, self).__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(context_size * embedding_dim, 32)
        self.linear2 = nn.Linear(32, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).view((1, -1))
        out = F.relu(self.linear1(embeds))
        return F.log_softmax(self.linear2(out), dim=1)


losses = []
loss_function = nn.NLLLoss()
model = NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE)
optimizer = optim.SGD(model.parameters(), lr=0.001)
for epoch in range(2):
    total_loss = 0
    for context, target in ngrams:
        context_idxs = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)
        model.zero_grad()
        log_probs = model(context_idxs)
        loss = loss_function(log_probs, torch.tensor([word_to_ix[target]], dtype=torch.long))
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    losses.append(total_loss)
beauty = model.embeddings.weight[word_to_ix["beauty's"]][:4].tolist()


class CBOW(nn.Module):
    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear = nn.Linear(embedding_dim, vocab_size)

    def forward(self, inputs):
        return F.log_softmax(self.linear(self.embeddings(inputs).sum(0, keepdim=True)), dim=1)


cbow_data = [
    (test_sentence[i - 2 : i] + test_sentence[i + 1 : i + 3], test_sentence[i])
    for i in range(2, len(test_sentence) - 2)
]
cbow = CBOW(len(vocab), EMBEDDING_DIM)
optimizer = optim.Adam(cbow.parameters(), lr=0.05)
cbow_losses = []
for epoch in range(3):
    total = 0.0
    for context, target in cbow_data:
        ctx = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)
        loss = F.nll_loss(cbow(ctx), torch.tensor([word_to_ix[target]]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    cbow_losses.append(total)

# --- sequence models: an LSTM step by step, and the LSTM tagger
lstm = nn.LSTM(3, 3)
inputs = [torch.randn(1, 3) for _ in range(5)]
hidden = (torch.randn(1, 1, 3), torch.randn(1, 1, 3))
start = hidden
for i in inputs:
    out, hidden = lstm(i.view(1, 1, -1), hidden)
inputs = torch.cat(inputs).view(len(inputs), 1, -1)
out_all, hidden_all = lstm(inputs, start)
stepwise_gap = (hidden_all[0] - hidden[0]).abs().max().item()
lstm_out_last = out_all[-1].tolist()


def prepare_sequence(seq, to_ix):
    return torch.tensor([to_ix[w] for w in seq], dtype=torch.long)


training_data = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
]
word_to_ix = {}
for sent, tags in training_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
tag_to_ix = {"DET": 0, "NN": 1, "V": 2}


class LSTMTagger(nn.Module):
    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super(LSTMTagger, self).__init__()
        self.hidden_dim = hidden_dim
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        return F.log_softmax(tag_space, dim=1)


model = LSTMTagger(6, 6, len(word_to_ix), len(tag_to_ix))
loss_function = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.5)
tagger_losses = []
for epoch in range(40):
    for sentence, tags in training_data:
        model.zero_grad()
        tag_scores = model(prepare_sequence(sentence, word_to_ix))
        loss = loss_function(tag_scores, prepare_sequence(tags, tag_to_ix))
        loss.backward()
        optimizer.step()
    tagger_losses.append(loss.item())
with torch.no_grad():
    tag_scores = model(prepare_sequence(training_data[0][0], word_to_ix))
predicted_tags = tag_scores.argmax(1).tolist()
