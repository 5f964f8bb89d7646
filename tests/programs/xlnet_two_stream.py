"""XLNet's two-stream relative attention (Yang et al. 2019) as Hugging Face's
``modeling_xlnet`` writes it: ``rel_shift_bnij`` (reshape, drop a row, ``index_select``), the
content, position and segment scores in ``einsum`` (``"ibnd,jbnd->bnij"``, ``"ijbs,ibns->bnij"``),
``attn_score - 1e30 * einsum("ijbn->bnij", attn_mask)``, the sinusoid relative encoding with
``clamp`` at ``clamp_len``, the permutation mask of ``DataCollatorForPermutationLanguageModeling``
(span-reversed ``torch.randperm`` orders compared with ``<=``), ``non_tgt_mask`` from
``-torch.eye``, the query stream ``g`` seeded by ``mask_emb`` and read by ``target_mapping``
(``"mbnd,mlb->lbnd"``), and one-hot segment matrices; a two-layer model is trained on
permutation language modelling of short arithmetic sequences."""

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)


class XLNetRelativeAttention(nn.Module):
    def __init__(self, d_model, n_head, d_head):
        super().__init__()
        self.n_head, self.d_head, self.d_model = n_head, d_head, d_model
        self.scale = 1 / (d_head**0.5)
        self.q = nn.Parameter(torch.FloatTensor(d_model, self.n_head, self.d_head))
        self.k = nn.Parameter(torch.FloatTensor(d_model, self.n_head, self.d_head))
        self.v = nn.Parameter(torch.FloatTensor(d_model, self.n_head, self.d_head))
        self.o = nn.Parameter(torch.FloatTensor(d_model, self.n_head, self.d_head))
        self.r = nn.Parameter(torch.FloatTensor(d_model, self.n_head, self.d_head))
        self.r_r_bias = nn.Parameter(torch.FloatTensor(self.n_head, self.d_head))
        self.r_s_bias = nn.Parameter(torch.FloatTensor(self.n_head, self.d_head))
        self.r_w_bias = nn.Parameter(torch.FloatTensor(self.n_head, self.d_head))
        self.seg_embed = nn.Parameter(torch.FloatTensor(2, self.n_head, self.d_head))
        self.layer_norm = nn.LayerNorm(d_model, eps=1e-12)
        for p in self.parameters():
            if p.dim() > 1 or p is not self.layer_norm.weight and p is not self.layer_norm.bias:
                nn.init.normal_(p, mean=0.0, std=0.02)

    @staticmethod
    def rel_shift_bnij(x, klen=-1):
        x_size = x.shape
        x = x.reshape(x_size[0], x_size[1], x_size[3], x_size[2])
        x = x[:, :, 1:, :]
        x = x.reshape(x_size[0], x_size[1], x_size[2], x_size[3] - 1)
        # Note: the tensor-slice form was faster in my testing than torch.index_select
        x = torch.index_select(x, 3, torch.arange(klen, device=x.device, dtype=torch.long))
        return x

    def rel_attn_core(self, q_head, k_head_h, v_head_h, k_head_r, seg_mat=None, attn_mask=None):
        # content based attention score
        ac = torch.einsum("ibnd,jbnd->bnij", q_head + self.r_w_bias, k_head_h)
        # position based attention score
        bd = torch.einsum("ibnd,jbnd->bnij", q_head + self.r_r_bias, k_head_r)
        bd = self.rel_shift_bnij(bd, klen=ac.shape[3])
        # segment based attention score
        if seg_mat is None:
            ef = 0
        else:
            ef = torch.einsum("ibnd,snd->ibns", q_head + self.r_s_bias, self.seg_embed)
            ef = torch.einsum("ijbs,ibns->bnij", seg_mat, ef)
        attn_score = (ac + bd + ef) * self.scale
        if attn_mask is not None:
            attn_score = attn_score - 1e30 * torch.einsum("ijbn->bnij", attn_mask)
        attn_prob = nn.functional.softmax(attn_score, dim=3)
        attn_vec = torch.einsum("bnij,jbnd->ibnd", attn_prob, v_head_h)
        return attn_vec

    def post_attention(self, h, attn_vec, residual=True):
        attn_out = torch.einsum("ibnd,hnd->ibh", attn_vec, self.o)
        if residual:
            attn_out = attn_out + h
        return self.layer_norm(attn_out)

    def forward(self, h, g, attn_mask_h, attn_mask_g, r, seg_mat, target_mapping=None):
        # h-stream: content representation, sees itself
        k_head_h = torch.einsum("ibh,hnd->ibnd", h, self.k)
        v_head_h = torch.einsum("ibh,hnd->ibnd", h, self.v)
        k_head_r = torch.einsum("ibh,hnd->ibnd", r.type(self.r.dtype), self.r)
        q_head_h = torch.einsum("ibh,hnd->ibnd", h, self.q)
        attn_vec_h = self.rel_attn_core(
            q_head_h, k_head_h, v_head_h, k_head_r, seg_mat, attn_mask_h
        )
        output_h = self.post_attention(h, attn_vec_h)
        # g-stream: query representation, sees the position but not the content
        q_head_g = torch.einsum("ibh,hnd->ibnd", g, self.q)
        if target_mapping is not None:
            q_head_g = torch.einsum("mbnd,mlb->lbnd", q_head_g, target_mapping)
            attn_vec_g = self.rel_attn_core(
                q_head_g, k_head_h, v_head_h, k_head_r, seg_mat, attn_mask_g
            )
            attn_vec_g = torch.einsum("lbnd,mlb->mbnd", attn_vec_g, target_mapping)
        else:
            attn_vec_g = self.rel_attn_core(
                q_head_g, k_head_h, v_head_h, k_head_r, seg_mat, attn_mask_g
            )
        output_g = self.post_attention(g, attn_vec_g)
        return output_h, output_g


class XLNetFeedForward(nn.Module):
    def __init__(self, d_model, d_inner):
        super().__init__()
        self.layer_norm = nn.LayerNorm(d_model, eps=1e-12)
        self.layer_1 = nn.Linear(d_model, d_inner)
        self.layer_2 = nn.Linear(d_inner, d_model)

    def forward(self, inp):
        output = self.layer_2(F.gelu(self.layer_1(inp)))
        return self.layer_norm(output + inp)


class XLNetLMHeadModel(nn.Module):
    def __init__(self, vocab, d_model=16, n_head=2, n_layer=2, clamp_len=-1):
        super().__init__()
        self.d_model, self.clamp_len = d_model, clamp_len
        self.word_embedding = nn.Embedding(vocab, d_model)
        self.mask_emb = nn.Parameter(torch.FloatTensor(1, 1, d_model).normal_(0, 0.02))
        self.layer = nn.ModuleList(
            [
                nn.ModuleList(
                    [
                        XLNetRelativeAttention(d_model, n_head, d_model // n_head),
                        XLNetFeedForward(d_model, 2 * d_model),
                    ]
                )
                for _ in range(n_layer)
            ]
        )
        self.lm_loss = nn.Linear(d_model, vocab, bias=True)
        self.lm_loss.weight = self.word_embedding.weight  # tied

    @staticmethod
    def positional_embedding(pos_seq, inv_freq, bsz=None):
        sinusoid_inp = torch.einsum("i,d->id", pos_seq, inv_freq)
        pos_emb = torch.cat([torch.sin(sinusoid_inp), torch.cos(sinusoid_inp)], dim=-1)
        pos_emb = pos_emb[:, None, :]
        if bsz is not None:
            pos_emb = pos_emb.expand(-1, bsz, -1)
        return pos_emb

    def relative_positional_encoding(self, qlen, klen, bsz=None):
        freq_seq = torch.arange(0, self.d_model, 2.0, dtype=torch.int64).float()
        inv_freq = 1 / torch.pow(10000, (freq_seq / self.d_model))
        beg, end = klen, -qlen  # attn_type == "bi"
        fwd_pos_seq = torch.arange(beg, end, -1.0, dtype=torch.int64).float()
        if self.clamp_len > 0:
            fwd_pos_seq = fwd_pos_seq.clamp(-self.clamp_len, self.clamp_len)
        return self.positional_embedding(fwd_pos_seq, inv_freq, bsz)

    def forward(self, input_ids, token_type_ids, perm_mask, target_mapping):
        input_ids = input_ids.transpose(0, 1).contiguous()
        token_type_ids = token_type_ids.transpose(0, 1).contiguous()
        perm_mask = perm_mask.permute(1, 2, 0).contiguous()
        target_mapping = target_mapping.permute(1, 2, 0).contiguous()
        qlen, bsz = input_ids.shape[0], input_ids.shape[1]
        klen = qlen
        attn_mask = perm_mask[:, :, :, None].to(torch.float)
        non_tgt_mask = -torch.eye(qlen).to(attn_mask)
        non_tgt_mask = ((attn_mask + non_tgt_mask[:, :, None, None]) > 0).to(attn_mask)
        word_emb_k = self.word_embedding(input_ids)
        output_h = word_emb_k
        word_emb_q = self.mask_emb.expand(target_mapping.shape[0], bsz, -1)
        output_g = word_emb_q
        # segment matrix: 1 where the segments differ, one-hot over the 2 cases
        cat_ids = token_type_ids
        seg_mat = (token_type_ids[:, None] != cat_ids[None, :]).long()
        seg_mat = nn.functional.one_hot(seg_mat, num_classes=2).to(output_h.dtype)
        pos_emb = self.relative_positional_encoding(qlen, klen, bsz=bsz).to(output_h.dtype)
        for attention, ff in self.layer:
            output_h, output_g = attention(
                output_h, output_g, non_tgt_mask, attn_mask, pos_emb, seg_mat, target_mapping
            )
            output_h, output_g = ff(output_h), ff(output_g)
        return self.lm_loss(output_g).permute(1, 0, 2).contiguous()


def permutation_batch(inputs, plm_probability=1 / 3, max_span_length=2):
    """DataCollatorForPermutationLanguageModeling.torch_mask_tokens, for a batch without pads."""
    labels = inputs.clone()
    masked_indices = torch.full(labels.shape, 0, dtype=torch.bool)
    target_mapping = torch.zeros(
        (labels.size(0), labels.size(1), labels.size(1)), dtype=torch.float32
    )
    for i in range(labels.size(0)):
        cur_len = 0
        max_len = labels.size(1)
        while cur_len < max_len:
            span_length = torch.randint(1, max_span_length + 1, (1,)).item()
            context_length = int(span_length / plm_probability)
            start_index = cur_len + torch.randint(context_length - span_length + 1, (1,)).item()
            masked_indices[i, start_index : start_index + span_length] = 1
            cur_len += context_length
        target_mapping[i] = torch.eye(labels.size(1))
    labels[~masked_indices] = -100
    perm_mask = torch.zeros((labels.size(0), labels.size(1), labels.size(1)), dtype=torch.float32)
    for i in range(labels.size(0)):
        perm_index = torch.arange(labels.size(1))
        perm_index = perm_index.reshape((-1, labels.size(1) // 2)).transpose(0, 1)
        perm_index = perm_index[torch.randperm(labels.size(1) // 2)]
        perm_index = torch.flatten(perm_index.transpose(0, 1))
        perm_index.masked_fill_(~masked_indices[i], -1)
        perm_mask[i] = (
            perm_index.reshape((labels.size(1), 1)) <= perm_index.reshape((1, labels.size(1)))
        ) & masked_indices[i]
    return inputs.long(), perm_mask, target_mapping, labels.long()


shift_demo = XLNetRelativeAttention.rel_shift_bnij(torch.arange(24.0).reshape(1, 1, 3, 8), klen=3)
shift_values = shift_demo[0, 0].tolist()

vocab, n = 10, 8
starts = torch.randint(0, vocab, (8, 1))
data = (starts + torch.arange(n) * 2) % vocab
token_type_ids = (torch.arange(n) >= n // 2).long().expand(8, -1)
inputs, perm_mask, target_mapping, labels = permutation_batch(data)
perm_summary = [
    perm_mask.sum().item(),
    (labels != -100).sum().item(),
    perm_mask.diagonal(dim1=1, dim2=2).sum().item(),
]

model = XLNetLMHeadModel(vocab)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for step in range(25):
    inputs, perm_mask, target_mapping, labels = permutation_batch(data)
    logits = model(inputs, token_type_ids, perm_mask, target_mapping)
    loss = F.cross_entropy(logits.view(-1, vocab), labels.view(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
tied = model.lm_loss.weight is model.word_embedding.weight
param_names = sorted(model.state_dict())[:4]
