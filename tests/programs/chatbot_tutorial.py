"""The "Chatbot Tutorial" (Cornell movie dialogs), as written for PyTorch, on a few synthetic
exchanges: a ``Voc`` with ``trim``, ``normalizeString`` with ``unicodedata`` and ``re``,
``zeroPadding`` with ``itertools.zip_longest`` and a ``BoolTensor`` mask, a bidirectional GRU
encoder over ``pack_padded_sequence`` (directions summed), Luong attention (dot, general and
concat scores), a ``LuongAttnDecoderRNN`` with embedding dropout, the masked NLL loss
(``gather`` then ``masked_select``), teacher forcing drawn with ``random``, gradient clipping,
a checkpoint dict saved and reloaded, and the ``GreedySearchDecoder`` answering questions."""

import itertools
import os
import random
import re
import tempfile
import unicodedata

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
random.seed(0)
device = torch.device("cpu")
PAD_token, SOS_token, EOS_token = 0, 1, 2
MAX_LENGTH = 6


class Voc:
    def __init__(self, name):
        self.name = name
        self.trimmed = False
        self.word2index, self.word2count = {}, {}
        self.index2word = {PAD_token: "PAD", SOS_token: "SOS", EOS_token: "EOS"}
        self.num_words = 3

    def addSentence(self, sentence):
        for word in sentence.split(" "):
            self.addWord(word)

    def addWord(self, word):
        if word not in self.word2index:
            self.word2index[word] = self.num_words
            self.word2count[word] = 1
            self.index2word[self.num_words] = word
            self.num_words += 1
        else:
            self.word2count[word] += 1

    def trim(self, min_count):
        if self.trimmed:
            return
        self.trimmed = True
        keep_words = [k for k, v in self.word2count.items() if v >= min_count]
        print(f"keep_words {len(keep_words)} / {len(self.word2index)}")
        self.__init__(self.name)
        self.trimmed = True
        for word in keep_words:
            self.addWord(word)


def unicodeToAscii(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def normalizeString(s):
    s = unicodeToAscii(s.lower().strip())
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z.!?]+", r" ", s)
    return re.sub(r"\s+", r" ", s).strip()


names = ["anna", "bob", "chloé", "dan", "eve", "zoë"]
raw = [(f"Hi, I am {n.title()}!", f"hello {n} !") for n in names]
raw += [(f"Where is {n.title()}?", f"{n} is home .") for n in names]
raw += [
    ("How are you?", "i am fine ."),
    ("Good night!", "sleep well ."),
    ("Who are you?", "a bot ."),
]
raw += [("Xylophone?", "what ?")]
voc = Voc("synthetic")
pairs = [[normalizeString(q), normalizeString(a)] for q, a in raw]
for pair in pairs:
    voc.addSentence(pair[0])
    voc.addSentence(pair[1])
words_before_trim = voc.num_words
voc.trim(2)
pairs = [p for p in pairs if all(w in voc.word2index for s in p for w in s.split(" "))]
vocab_summary = (words_before_trim, voc.num_words, len(pairs), pairs[2])


def indexesFromSentence(voc, sentence):
    return [voc.word2index[word] for word in sentence.split(" ")] + [EOS_token]


def zeroPadding(batch, fillvalue=PAD_token):
    return list(itertools.zip_longest(*batch, fillvalue=fillvalue))


def binaryMatrix(batch, value=PAD_token):
    return [[0 if token == PAD_token else 1 for token in seq] for seq in batch]


def inputVar(batch, voc):
    indexes_batch = [indexesFromSentence(voc, sentence) for sentence in batch]
    lengths = torch.tensor([len(indexes) for indexes in indexes_batch])
    return torch.LongTensor(zeroPadding(indexes_batch)), lengths


def outputVar(batch, voc):
    indexes_batch = [indexesFromSentence(voc, sentence) for sentence in batch]
    max_target_len = max([len(indexes) for indexes in indexes_batch])
    padList = zeroPadding(indexes_batch)
    mask = torch.BoolTensor(binaryMatrix(padList))
    return torch.LongTensor(padList), mask, max_target_len


def batch2TrainData(voc, pair_batch):
    pair_batch.sort(key=lambda x: len(x[0].split(" ")), reverse=True)
    input_batch, output_batch = zip(*pair_batch)
    inp, lengths = inputVar(input_batch, voc)
    output, mask, max_target_len = outputVar(output_batch, voc)
    return inp, lengths, output, mask, max_target_len


small = batch2TrainData(voc, [random.choice(pairs) for _ in range(3)])
batch_example = (
    small[0].tolist(),
    small[1].tolist(),
    small[3].tolist(),
    small[4],
    str(small[3].dtype),
)


class EncoderRNN(nn.Module):
    def __init__(self, hidden_size, embedding, n_layers=1, dropout=0):
        super(EncoderRNN, self).__init__()
        self.n_layers, self.hidden_size, self.embedding = n_layers, hidden_size, embedding
        self.gru = nn.GRU(
            hidden_size,
            hidden_size,
            n_layers,
            dropout=(0 if n_layers == 1 else dropout),
            bidirectional=True,
        )

    def forward(self, input_seq, input_lengths, hidden=None):
        embedded = self.embedding(input_seq)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, input_lengths)
        outputs, hidden = self.gru(packed, hidden)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs)
        outputs = outputs[:, :, : self.hidden_size] + outputs[:, :, self.hidden_size :]
        return outputs, hidden


class Attn(nn.Module):
    def __init__(self, method, hidden_size):
        super(Attn, self).__init__()
        self.method, self.hidden_size = method, hidden_size
        if self.method == "general":
            self.attn = nn.Linear(self.hidden_size, hidden_size)
        elif self.method == "concat":
            self.attn = nn.Linear(self.hidden_size * 2, hidden_size)
            self.v = nn.Parameter(torch.FloatTensor(hidden_size).uniform_(-0.1, 0.1))

    def dot_score(self, hidden, encoder_output):
        return torch.sum(hidden * encoder_output, dim=2)

    def general_score(self, hidden, encoder_output):
        return torch.sum(hidden * self.attn(encoder_output), dim=2)

    def concat_score(self, hidden, encoder_output):
        energy = self.attn(
            torch.cat((hidden.expand(encoder_output.size(0), -1, -1), encoder_output), 2)
        ).tanh()
        return torch.sum(self.v * energy, dim=2)

    def forward(self, hidden, encoder_outputs):
        attn_energies = getattr(self, self.method + "_score")(hidden, encoder_outputs)
        return F.softmax(attn_energies.t(), dim=1).unsqueeze(1)


class LuongAttnDecoderRNN(nn.Module):
    def __init__(self, attn_model, embedding, hidden_size, output_size, n_layers=1, dropout=0.1):
        super(LuongAttnDecoderRNN, self).__init__()
        self.n_layers = n_layers
        self.embedding = embedding
        self.embedding_dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(
            hidden_size, hidden_size, n_layers, dropout=(0 if n_layers == 1 else dropout)
        )
        self.concat = nn.Linear(hidden_size * 2, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)
        self.attn = Attn(attn_model, hidden_size)

    def forward(self, input_step, last_hidden, encoder_outputs):
        embedded = self.embedding_dropout(self.embedding(input_step))
        rnn_output, hidden = self.gru(embedded, last_hidden)
        attn_weights = self.attn(rnn_output, encoder_outputs)
        context = attn_weights.bmm(encoder_outputs.transpose(0, 1))
        concat_input = torch.cat((rnn_output.squeeze(0), context.squeeze(1)), 1)
        concat_output = torch.tanh(self.concat(concat_input))
        return F.softmax(self.out(concat_output), dim=1), hidden


def maskNLLLoss(inp, target, mask):
    nTotal = mask.sum()
    crossEntropy = -torch.log(torch.gather(inp, 1, target.view(-1, 1)).squeeze(1))
    loss = crossEntropy.masked_select(mask).mean()
    return loss.to(device), nTotal.item()


def train(
    input_variable,
    lengths,
    target_variable,
    mask,
    max_target_len,
    encoder,
    decoder,
    encoder_optimizer,
    decoder_optimizer,
    batch_size,
    clip,
    teacher_forcing_ratio=0.5,
):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    loss, print_losses, n_totals = 0, [], 0
    encoder_outputs, encoder_hidden = encoder(input_variable, lengths.to("cpu"))
    decoder_input = torch.LongTensor([[SOS_token for _ in range(batch_size)]])
    decoder_hidden = encoder_hidden[: decoder.n_layers]
    use_teacher_forcing = True if random.random() < teacher_forcing_ratio else False
    for t in range(max_target_len):
        decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden, encoder_outputs)
        if use_teacher_forcing:
            decoder_input = target_variable[t].view(1, -1)
        else:
            _, topi = decoder_output.topk(1)
            decoder_input = torch.LongTensor([[topi[i][0] for i in range(batch_size)]])
        mask_loss, nTotal = maskNLLLoss(decoder_output, target_variable[t], mask[t])
        loss += mask_loss
        print_losses.append(mask_loss.item() * nTotal)
        n_totals += nTotal
    loss.backward()
    _ = nn.utils.clip_grad_norm_(encoder.parameters(), clip)
    _ = nn.utils.clip_grad_norm_(decoder.parameters(), clip)
    encoder_optimizer.step()
    decoder_optimizer.step()
    return sum(print_losses) / n_totals


hidden_size, batch_size, n_iteration = 16, 6, 40
embedding = nn.Embedding(voc.num_words, hidden_size)
encoder = EncoderRNN(hidden_size, embedding, 2, 0.1)
decoder = LuongAttnDecoderRNN("dot", embedding, hidden_size, voc.num_words, 2, 0.1)
encoder.train()
decoder.train()
encoder_optimizer = torch.optim.Adam(encoder.parameters(), lr=0.003)
decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=0.015)
training_batches = [
    batch2TrainData(voc, [random.choice(pairs) for _ in range(batch_size)])
    for _ in range(n_iteration)
]
losses = []
for iteration in range(1, n_iteration + 1):
    losses.append(
        train(
            *training_batches[iteration - 1],
            encoder,
            decoder,
            encoder_optimizer,
            decoder_optimizer,
            batch_size,
            clip=50.0,
        )
    )
    if iteration % 10 == 0:
        print(f"Iteration: {iteration}; Average loss: {losses[-1]:.4f}")

with tempfile.TemporaryDirectory() as save_dir:
    path = os.path.join(save_dir, f"{n_iteration}_checkpoint.tar")
    torch.save(
        {
            "iteration": n_iteration,
            "en": encoder.state_dict(),
            "de": decoder.state_dict(),
            "en_opt": encoder_optimizer.state_dict(),
            "loss": losses[-1],
            "voc_dict": voc.__dict__,
            "embedding": embedding.state_dict(),
        },
        path,
    )
    checkpoint = torch.load(path)
voc.__dict__ = checkpoint["voc_dict"]
embedding.load_state_dict(checkpoint["embedding"])
encoder.load_state_dict(checkpoint["en"])
decoder.load_state_dict(checkpoint["de"])
checkpoint_keys = sorted(checkpoint)
encoder.eval()
decoder.eval()


class GreedySearchDecoder(nn.Module):
    def __init__(self, encoder, decoder):
        super(GreedySearchDecoder, self).__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, input_seq, input_length, max_length):
        encoder_outputs, encoder_hidden = self.encoder(input_seq, input_length)
        decoder_hidden = encoder_hidden[: decoder.n_layers]
        decoder_input = torch.ones(1, 1, device=device, dtype=torch.long) * SOS_token
        all_tokens = torch.zeros([0], device=device, dtype=torch.long)
        all_scores = torch.zeros([0], device=device)
        for _ in range(max_length):
            decoder_output, decoder_hidden = self.decoder(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_scores, decoder_input = torch.max(decoder_output, dim=1)
            all_tokens = torch.cat((all_tokens, decoder_input), dim=0)
            all_scores = torch.cat((all_scores, decoder_scores), dim=0)
            decoder_input = torch.unsqueeze(decoder_input, 0)
        return all_tokens, all_scores


def evaluate(searcher, voc, sentence, max_length=MAX_LENGTH):
    indexes_batch = [indexesFromSentence(voc, sentence)]
    lengths = torch.tensor([len(indexes) for indexes in indexes_batch])
    input_batch = torch.LongTensor(indexes_batch).transpose(0, 1)
    tokens, scores = searcher(input_batch, lengths, max_length)
    return [voc.index2word[token.item()] for token in tokens], scores.tolist()


searcher = GreedySearchDecoder(encoder, decoder)
answers, answer_scores = [], []
for question in ["Hi, I am Eve!", "where is bob?", "how are you?", "good night!"]:
    try:
        output_words, scores = evaluate(searcher, voc, normalizeString(question))
    except KeyError:
        print("Error: Encountered unknown word.")
        answers.append(None)
        continue
    output_words[:] = [x for x in output_words if not (x == "EOS" or x == "PAD")]
    print("Bot:", " ".join(output_words))
    answers.append(" ".join(output_words))
    answer_scores.append(scores)

hidden = torch.randn(1, 3, hidden_size)
enc_out = torch.randn(5, 3, hidden_size)
attn_shapes = {
    m: tuple(Attn(m, hidden_size)(hidden, enc_out).shape) for m in ("dot", "general", "concat")
}
