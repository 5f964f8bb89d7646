# A word-level language model in the style of pytorch/examples (word_language_model), written
# for PyTorch and run here unchanged on minigrad: Embedding -> 2-layer RNN with dropout ->
# Linear, NLL loss, gradient clipping, manual SGD on p.data, the whole model saved and loaded
# under safe_globals, then text sampled with multinomial. Shortened: a tiny corpus, few steps.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CORPUS = (
    "the cat sat on the mat . the dog sat on the log . a cat saw a dog . "
    "the dog saw the cat on the mat . a dog sat on a log . the cat ran . "
) * 6


class Dictionary(object):
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity="tanh", dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def main(rnn_type, path, epochs=3, lr=2.0, bptt=8, clip=0.25):
    torch.manual_seed(1111)
    dictionary = Dictionary()
    ids = torch.tensor([dictionary.add_word(w) for w in CORPUS.split()]).type(torch.int64)
    train_data = batchify(ids, 4)
    ntokens = len(dictionary)
    model = RNNModel(rnn_type, ntokens, 16, 32, 2, dropout=0.2)
    criterion = nn.NLLLoss()
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss = 0.0
        hidden = model.init_hidden(4)
        batches = 0
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i, bptt)
            model.zero_grad()
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            total_loss += loss.item()
            batches += 1
        losses.append(total_loss / batches)
        print(
            "| epoch {:3d} | loss {:5.2f} | ppl {:8.2f}".format(
                epoch, losses[-1], math.exp(losses[-1])
            )
        )

    with open(path, "wb") as f:
        torch.save(model, f)
    allowed = [RNNModel, nn.Dropout, nn.Embedding, nn.LSTM, nn.GRU, nn.RNN, nn.Linear]
    with torch.serialization.safe_globals(allowed):  # every class the whole model holds
        with open(path, "rb") as f:
            model = torch.load(f)

    model.eval()
    hidden = model.init_hidden(1)
    input = torch.randint(ntokens, (1, 1), dtype=torch.long)
    words = []
    with torch.no_grad():
        for i in range(12):
            output, hidden = model(input, hidden)
            word_weights = output.squeeze().div(1.0).exp().cpu()
            word_idx = torch.multinomial(word_weights, 1)[0]
            input.fill_(word_idx)
            words.append(dictionary.idx2word[word_idx])
    return losses, words
