"""CS224n assignment 4's NMT model (``nmt_model.py``) on a toy copying "translation": the
bidirectional LSTM encoder over ``pack_padded_sequence`` of length-sorted source sentences
(``pad_packed_sequence`` then ``permute(1, 0, 2)``), the ``h_projection``/``c_projection`` of
``torch.cat((last_hidden[0], last_hidden[1]), 1)``, the ``nn.LSTMCell`` decoder fed
``torch.cat((Y_t, o_prev), dim=1)`` over ``torch.split(Y, 1, dim=0)`` steps,
multiplicative attention by ``torch.bmm(...).squeeze(2)`` with
``e_t.data.masked_fill_(enc_masks.bool(), -float('inf'))``, ``generate_sent_masks``, target
log-likelihoods by ``torch.gather(..., index=tgt[1:].unsqueeze(-1))`` masked on padding,
``uniform_(-0.1, 0.1)`` initialisation, ``clip_grad_norm_``, the checkpoint saved as a dict
of ``args`` and ``state_dict`` and reloaded with ``map_location=lambda storage, loc:
storage``, and the assignment's ``beam_search`` (``hyp_scores.unsqueeze(1).expand_as(
log_p_t)``, ``torch.topk`` over the flattened scores, ``torch.div(..., rounding_mode=
'floor')`` and ``%`` for hypothesis and word ids)."""

import io
from collections import namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)
Hypothesis = namedtuple("Hypothesis", ["value", "score"])
words = ["<pad>", "<s>", "</s>", "<unk>"] + list("abcdefgh")
word2id = {w: i for i, w in enumerate(words)}


def to_input_tensor(sents):
    ids = [[word2id[w] for w in s] for s in sents]
    max_len = max(len(s) for s in ids)
    padded = [s + [word2id["<pad>"]] * (max_len - len(s)) for s in ids]
    return torch.tensor(padded, dtype=torch.long).t()  # (max_len, batch)


class NMT(nn.Module):
    def __init__(self, embed_size, hidden_size, dropout_rate=0.2):
        super(NMT, self).__init__()
        self.embed_size, self.hidden_size, self.dropout_rate = embed_size, hidden_size, dropout_rate
        self.source = nn.Embedding(len(words), embed_size, padding_idx=0)
        self.target = nn.Embedding(len(words), embed_size, padding_idx=0)
        self.encoder = nn.LSTM(embed_size, hidden_size, bias=True, bidirectional=True)
        self.decoder = nn.LSTMCell(embed_size + hidden_size, hidden_size, bias=True)
        self.h_projection = nn.Linear(hidden_size * 2, hidden_size, bias=False)
        self.c_projection = nn.Linear(hidden_size * 2, hidden_size, bias=False)
        self.att_projection = nn.Linear(hidden_size * 2, hidden_size, bias=False)
        self.combined_output_projection = nn.Linear(hidden_size * 3, hidden_size, bias=False)
        self.target_vocab_projection = nn.Linear(hidden_size, len(words), bias=False)
        self.dropout = nn.Dropout(self.dropout_rate)

    def forward(self, source, target):
        source_lengths = [len(s) for s in source]
        source_padded = to_input_tensor(source)
        target_padded = to_input_tensor(target)
        enc_hiddens, dec_init_state = self.encode(source_padded, source_lengths)
        enc_masks = self.generate_sent_masks(enc_hiddens, source_lengths)
        combined_outputs = self.decode(enc_hiddens, enc_masks, dec_init_state, target_padded)
        P = F.log_softmax(self.target_vocab_projection(combined_outputs), dim=-1)
        target_masks = (target_padded != word2id["<pad>"]).float()
        target_gold_words_log_prob = (
            torch.gather(P, index=target_padded[1:].unsqueeze(-1), dim=-1).squeeze(-1)
            * target_masks[1:]
        )
        return target_gold_words_log_prob.sum(dim=0)

    def encode(self, source_padded, source_lengths):
        X = self.source(source_padded)
        X = pack_padded_sequence(X, source_lengths)
        enc_hiddens, (last_hidden, last_cell) = self.encoder(X)
        enc_hiddens = pad_packed_sequence(enc_hiddens)[0].permute(1, 0, 2)
        init_decoder_hidden = self.h_projection(torch.cat((last_hidden[0], last_hidden[1]), 1))
        init_decoder_cell = self.c_projection(torch.cat((last_cell[0], last_cell[1]), 1))
        return enc_hiddens, (init_decoder_hidden, init_decoder_cell)

    def decode(self, enc_hiddens, enc_masks, dec_init_state, target_padded):
        target_padded = target_padded[:-1]
        dec_state = dec_init_state
        batch_size = enc_hiddens.size(0)
        o_prev = torch.zeros(batch_size, self.hidden_size)
        combined_outputs = []
        enc_hiddens_proj = self.att_projection(enc_hiddens)
        Y = self.target(target_padded)
        for Y_t in torch.split(Y, 1, dim=0):
            Y_t = torch.squeeze(Y_t, dim=0)
            Ybar_t = torch.cat((Y_t, o_prev), dim=1)
            dec_state, o_t, e_t = self.step(
                Ybar_t, dec_state, enc_hiddens, enc_hiddens_proj, enc_masks
            )
            combined_outputs.append(o_t)
            o_prev = o_t
        return torch.stack(combined_outputs, dim=0)

    def step(self, Ybar_t, dec_state, enc_hiddens, enc_hiddens_proj, enc_masks):
        dec_state = self.decoder(Ybar_t, dec_state)
        dec_hidden, dec_cell = dec_state
        e_t = torch.bmm(enc_hiddens_proj, dec_hidden.unsqueeze(2)).squeeze(2)
        if enc_masks is not None:
            e_t.data.masked_fill_(enc_masks.bool(), -float("inf"))
        alpha_t = F.softmax(e_t, dim=1)
        a_t = torch.bmm(alpha_t.unsqueeze(1), enc_hiddens).squeeze(1)
        U_t = torch.cat((a_t, dec_hidden), dim=1)
        V_t = self.combined_output_projection(U_t)
        O_t = self.dropout(torch.tanh(V_t))
        return dec_state, O_t, e_t

    def generate_sent_masks(self, enc_hiddens, source_lengths):
        enc_masks = torch.zeros(enc_hiddens.size(0), enc_hiddens.size(1), dtype=torch.float)
        for e_id, src_len in enumerate(source_lengths):
            enc_masks[e_id, src_len:] = 1
        return enc_masks

    def beam_search(self, src_sent, beam_size=3, max_decoding_time_step=8):
        src_sents_var = to_input_tensor([src_sent])
        src_encodings, dec_init_vec = self.encode(src_sents_var, [len(src_sent)])
        src_encodings_att_linear = self.att_projection(src_encodings)
        h_tm1 = dec_init_vec
        att_tm1 = torch.zeros(1, self.hidden_size)
        hypotheses = [["<s>"]]
        hyp_scores = torch.zeros(len(hypotheses), dtype=torch.float)
        completed_hypotheses = []
        t = 0
        while len(completed_hypotheses) < beam_size and t < max_decoding_time_step:
            t += 1
            hyp_num = len(hypotheses)
            exp_src_encodings = src_encodings.expand(
                hyp_num, src_encodings.size(1), src_encodings.size(2)
            )
            exp_src_encodings_att_linear = src_encodings_att_linear.expand(
                hyp_num, src_encodings_att_linear.size(1), src_encodings_att_linear.size(2)
            )
            y_tm1 = torch.tensor([word2id[hyp[-1]] for hyp in hypotheses], dtype=torch.long)
            y_t_embed = self.target(y_tm1)
            x = torch.cat([y_t_embed, att_tm1], dim=-1)
            (h_t, cell_t), att_t, _ = self.step(
                x, h_tm1, exp_src_encodings, exp_src_encodings_att_linear, enc_masks=None
            )
            log_p_t = F.log_softmax(self.target_vocab_projection(att_t), dim=-1)
            live_hyp_num = beam_size - len(completed_hypotheses)
            contiuating_hyp_scores = (hyp_scores.unsqueeze(1).expand_as(log_p_t) + log_p_t).view(-1)
            top_cand_hyp_scores, top_cand_hyp_pos = torch.topk(
                contiuating_hyp_scores, k=live_hyp_num
            )
            prev_hyp_ids = torch.div(top_cand_hyp_pos, len(words), rounding_mode="floor")
            hyp_word_ids = top_cand_hyp_pos % len(words)
            new_hypotheses, live_hyp_ids, new_hyp_scores = [], [], []
            for prev_hyp_id, hyp_word_id, cand_new_hyp_score in zip(
                prev_hyp_ids, hyp_word_ids, top_cand_hyp_scores
            ):
                prev_hyp_id = prev_hyp_id.item()
                hyp_word = words[hyp_word_id.item()]
                cand_new_hyp_score = cand_new_hyp_score.item()
                new_hyp_sent = hypotheses[prev_hyp_id] + [hyp_word]
                if hyp_word == "</s>":
                    completed_hypotheses.append(
                        Hypothesis(value=new_hyp_sent[1:-1], score=cand_new_hyp_score)
                    )
                else:
                    new_hypotheses.append(new_hyp_sent)
                    live_hyp_ids.append(prev_hyp_id)
                    new_hyp_scores.append(cand_new_hyp_score)
            if len(completed_hypotheses) == beam_size:
                break
            live_hyp_ids = torch.tensor(live_hyp_ids, dtype=torch.long)
            h_tm1 = (h_t[live_hyp_ids], cell_t[live_hyp_ids])
            att_tm1 = att_t[live_hyp_ids]
            hypotheses = new_hypotheses
            hyp_scores = torch.tensor(new_hyp_scores, dtype=torch.float)
        if len(completed_hypotheses) == 0:
            completed_hypotheses.append(
                Hypothesis(value=hypotheses[0][1:], score=hyp_scores[0].item())
            )
        completed_hypotheses.sort(key=lambda hyp: hyp.score, reverse=True)
        return completed_hypotheses


model = NMT(embed_size=12, hidden_size=16, dropout_rate=0.1)
for p in model.parameters():
    p.data.uniform_(-0.1, 0.1)
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
letters = list("abcd")
losses, grad_norms = [], []
for step in range(24):
    lengths = sorted(torch.randint(2, 5, (16,)).tolist(), reverse=True)
    src = [[letters[i] for i in torch.randint(0, 4, (n,)).tolist()] for n in lengths]
    tgt = [["<s>"] + s + ["</s>"] for s in src]
    optimizer.zero_grad()
    example_losses = -model(src, tgt)
    batch_loss = example_losses.sum()
    loss = batch_loss / len(src)
    loss.backward()
    grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0).item())
    optimizer.step()
    losses.append(loss.item())
model.eval()
masks = model.generate_sent_masks(torch.zeros(3, 5, 2), [5, 3, 1]).tolist()

buffer = io.BytesIO()
params = {
    "args": dict(embed_size=12, hidden_size=16, dropout_rate=0.1),
    "state_dict": model.state_dict(),
}
torch.save(params, buffer)
buffer.seek(0)
loaded = torch.load(buffer, map_location=lambda storage, loc: storage)
reloaded = NMT(**loaded["args"])
reloaded.load_state_dict(loaded["state_dict"])
reloaded.eval()
with torch.no_grad():
    hyps = [reloaded.beam_search(list(s), beam_size=3) for s in ("abc", "dcba", "bad")]
best = ["".join(h[0].value) for h in hyps]
beam_scores = [[round(h.score, 4) for h in hs] for hs in hyps]
