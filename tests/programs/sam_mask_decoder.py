"""segment-anything's prompt encoder and mask decoder, scaled down and written as the repository
writes them: ``PositionEmbeddingRandom`` (a Gaussian matrix buffer, coordinates mapped to
``2 * coords - 1``, ``@``, ``2 * np.pi``, ``cat([sin, cos])``, ``forward_with_coords`` dividing
by the image size), point prompts shifted by half a pixel with a padding point and the label
masks ``point_embedding[labels == -1] = 0.0`` / ``+= self.point_embeddings[1].weight``, the
no-mask dense embedding ``reshape(1, -1, 1, 1).expand``, ``LayerNorm2d``, the
``TwoWayTransformer`` (token self-attention with ``skip_first_layer_pe``, token-to-image and
image-to-token cross-attention with ``downsample_rate``, ``_separate_heads``/``_recombine_heads``),
and the ``MaskDecoder`` (IoU and mask tokens, ``torch.repeat_interleave`` of the image
embedding, ``ConvTranspose2d`` upscaling, hypernetwork MLPs, ``hyper_in @ upscaled.view(b, c,
h * w)``, multimask slicing); trained on synthetic disk masks from a click inside each disk
with sigmoid focal plus dice loss, and the IoU head regressed to the predicted masks' IoU."""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

D, EMB, IMG = 16, 4, 16  # transformer dim, image-embedding side, input image side


class LayerNorm2d(nn.Module):
    def __init__(self, num_channels, eps=1e-6):
        super().__init__()
        self.weight, self.bias, self.eps = (
            nn.Parameter(torch.ones(num_channels)),
            nn.Parameter(torch.zeros(num_channels)),
            eps,
        )

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class PositionEmbeddingRandom(nn.Module):
    def __init__(self, num_pos_feats, scale=1.0):
        super().__init__()
        self.register_buffer(
            "positional_encoding_gaussian_matrix", scale * torch.randn((2, num_pos_feats))
        )

    def _pe_encoding(self, coords):
        coords = 2 * coords - 1
        coords = coords @ self.positional_encoding_gaussian_matrix
        coords = 2 * np.pi * coords
        return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)

    def forward(self, size):
        h, w = size
        grid = torch.ones((h, w), dtype=torch.float32)
        y_embed = (grid.cumsum(dim=0) - 0.5) / h
        x_embed = (grid.cumsum(dim=1) - 0.5) / w
        return self._pe_encoding(torch.stack([x_embed, y_embed], dim=-1)).permute(2, 0, 1)

    def forward_with_coords(self, coords_input, image_size):
        coords = coords_input.clone()
        coords[:, :, 0] = coords[:, :, 0] / image_size[1]
        coords[:, :, 1] = coords[:, :, 1] / image_size[0]
        return self._pe_encoding(coords.to(torch.float))


class PromptEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.pe_layer = PositionEmbeddingRandom(D // 2)
        self.point_embeddings = nn.ModuleList([nn.Embedding(1, D) for _ in range(4)])
        self.not_a_point_embed, self.no_mask_embed = nn.Embedding(1, D), nn.Embedding(1, D)

    def get_dense_pe(self):
        return self.pe_layer((EMB, EMB)).unsqueeze(0)

    def forward(self, points, labels):
        points = points + 0.5  # shift to center of pixel
        padding_point = torch.zeros((points.shape[0], 1, 2), device=points.device)
        padding_label = -torch.ones((labels.shape[0], 1), device=labels.device)
        points, labels = (
            torch.cat([points, padding_point], dim=1),
            torch.cat([labels, padding_label], dim=1),
        )
        point_embedding = self.pe_layer.forward_with_coords(points, (IMG, IMG))
        point_embedding[labels == -1] = 0.0
        point_embedding[labels == -1] += self.not_a_point_embed.weight
        point_embedding[labels == 0] += self.point_embeddings[0].weight
        point_embedding[labels == 1] += self.point_embeddings[1].weight
        dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(points.shape[0], -1, EMB, EMB)
        return point_embedding, dense


class Attention(nn.Module):
    def __init__(self, embedding_dim, num_heads, downsample_rate=1):
        super().__init__()
        self.internal_dim, self.num_heads = embedding_dim // downsample_rate, num_heads
        self.q_proj, self.k_proj = (
            nn.Linear(embedding_dim, self.internal_dim),
            nn.Linear(embedding_dim, self.internal_dim),
        )
        self.v_proj, self.out_proj = (
            nn.Linear(embedding_dim, self.internal_dim),
            nn.Linear(self.internal_dim, embedding_dim),
        )

    def _separate_heads(self, x, num_heads):
        b, n, c = x.shape
        return x.reshape(b, n, num_heads, c // num_heads).transpose(1, 2)

    def _recombine_heads(self, x):
        b, n_heads, n_tokens, c_per_head = x.shape
        return x.transpose(1, 2).reshape(b, n_tokens, n_heads * c_per_head)

    def forward(self, q, k, v):
        q, k, v = (
            self._separate_heads(p(t), self.num_heads)
            for p, t in ((self.q_proj, q), (self.k_proj, k), (self.v_proj, v))
        )
        attn = q @ k.permute(0, 1, 3, 2) / math.sqrt(q.shape[-1])
        return self.out_proj(self._recombine_heads(torch.softmax(attn, dim=-1) @ v))


class TwoWayAttentionBlock(nn.Module):
    def __init__(self, skip_first_layer_pe):
        super().__init__()
        self.self_attn = Attention(D, 2)
        self.cross_attn_token_to_image, self.cross_attn_image_to_token = (
            Attention(D, 2, 2),
            Attention(D, 2, 2),
        )
        self.mlp = nn.Sequential(nn.Linear(D, 2 * D), nn.ReLU(), nn.Linear(2 * D, D))
        self.norm1, self.norm2, self.norm3, self.norm4 = (nn.LayerNorm(D) for _ in range(4))
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries, keys, query_pe, key_pe):
        if self.skip_first_layer_pe:
            queries = self.self_attn(q=queries, k=queries, v=queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q=q, k=q, v=queries)
        queries = self.norm1(queries)
        queries = self.norm2(
            queries + self.cross_attn_token_to_image(q=queries + query_pe, k=keys + key_pe, v=keys)
        )
        queries = self.norm3(queries + self.mlp(queries))
        keys = self.norm4(
            keys + self.cross_attn_image_to_token(q=keys + key_pe, k=queries + query_pe, v=queries)
        )
        return queries, keys


class MaskDecoder(nn.Module):
    def __init__(self, num_multimask_outputs=2):
        super().__init__()
        self.num_mask_tokens = num_multimask_outputs + 1
        self.iou_token, self.mask_tokens = nn.Embedding(1, D), nn.Embedding(self.num_mask_tokens, D)
        self.layers = nn.ModuleList(
            [TwoWayAttentionBlock(skip_first_layer_pe=(i == 0)) for i in range(2)]
        )
        self.final_attn_token_to_image, self.norm_final_attn = Attention(D, 2, 2), nn.LayerNorm(D)
        self.output_upscaling = nn.Sequential(nn.ConvTranspose2d(D, D // 4, 2, stride=2), LayerNorm2d(D // 4), nn.GELU(),
                                              nn.ConvTranspose2d(D // 4, D // 8, 2, stride=2), nn.GELU())  # fmt: skip
        self.output_hypernetworks_mlps = nn.ModuleList(
            [
                nn.Sequential(nn.Linear(D, D), nn.ReLU(), nn.Linear(D, D // 8))
                for _ in range(self.num_mask_tokens)
            ]
        )
        self.iou_prediction_head = nn.Sequential(
            nn.Linear(D, D), nn.ReLU(), nn.Linear(D, self.num_mask_tokens)
        )

    def forward(
        self,
        image_embeddings,
        image_pe,
        sparse_prompt_embeddings,
        dense_prompt_embeddings,
        multimask_output,
    ):
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        output_tokens = output_tokens.unsqueeze(0).expand(sparse_prompt_embeddings.size(0), -1, -1)
        tokens = torch.cat((output_tokens, sparse_prompt_embeddings), dim=1)
        src = (
            torch.repeat_interleave(image_embeddings, tokens.shape[0], dim=0)
            + dense_prompt_embeddings
        )
        pos_src = torch.repeat_interleave(image_pe, tokens.shape[0], dim=0)
        b, c, h, w = src.shape
        keys, key_pe = src.flatten(2).permute(0, 2, 1), pos_src.flatten(2).permute(0, 2, 1)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe)
        queries = self.norm_final_attn(
            queries + self.final_attn_token_to_image(q=queries + tokens, k=keys + key_pe, v=keys)
        )
        iou_token_out, mask_tokens_out = (
            queries[:, 0, :],
            queries[:, 1 : (1 + self.num_mask_tokens), :],
        )
        upscaled_embedding = self.output_upscaling(keys.transpose(1, 2).view(b, c, h, w))
        hyper_in = torch.stack(
            [mlp(mask_tokens_out[:, i, :]) for i, mlp in enumerate(self.output_hypernetworks_mlps)],
            dim=1,
        )
        b, c, h, w = upscaled_embedding.shape
        masks = (hyper_in @ upscaled_embedding.view(b, c, h * w)).view(b, -1, h, w)
        iou_pred = self.iou_prediction_head(iou_token_out)
        mask_slice = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, mask_slice, :, :], iou_pred[:, mask_slice]


def dice_loss(inputs, targets):
    inputs = inputs.sigmoid().flatten(1)
    targets = targets.flatten(1)
    numerator = 2 * (inputs * targets).sum(-1)
    return (1 - (numerator + 1) / (inputs.sum(-1) + targets.sum(-1) + 1)).mean()


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2):
    prob = inputs.sigmoid()
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * loss).mean()


torch.manual_seed(0)
prompt_encoder, mask_decoder = PromptEncoder(), MaskDecoder()
image_encoder = nn.Sequential(nn.Conv2d(1, D, 4, stride=4), LayerNorm2d(D))
params = [*prompt_encoder.parameters(), *mask_decoder.parameters(), *image_encoder.parameters()]
optimizer = torch.optim.AdamW(params, lr=6e-3)
yy, xx = torch.meshgrid(torch.arange(IMG).float(), torch.arange(IMG).float(), indexing="ij")
centers = torch.tensor([[[3, 3], [11, 4], [6, 12]], [[12, 12], [3, 9], [10, 3]]]).float()
gts = (
    ((xx - centers[..., 0, None, None]) ** 2 + (yy - centers[..., 1, None, None]) ** 2) < 7
).float()
images = gts.amax(1, keepdim=True) + 0.3 * torch.randn(2, 1, IMG, IMG)
labels = torch.ones(3, 1)
dense_pe_shape = tuple(prompt_encoder.get_dense_pe().shape)
losses, ious = [], []
for step in range(8):
    image_embeddings = image_encoder(images)
    loss = 0.0
    for curr_embedding, points, gt in zip(image_embeddings, centers, gts):
        sparse, dense = prompt_encoder(points[:, None, :], labels)
        masks, iou_pred = mask_decoder(
            curr_embedding.unsqueeze(0),
            prompt_encoder.get_dense_pe(),
            sparse,
            dense,
            multimask_output=True,
        )
        target = gt[:, None].expand_as(masks)
        pred = (masks > 0).float()
        iou = (pred * target).flatten(2).sum(-1) / ((pred + target) > 0).float().flatten(2).sum(
            -1
        ).clamp(min=1)
        loss = (
            loss
            + 5 * sigmoid_focal_loss(masks, target)
            + dice_loss(masks, target)
            + F.mse_loss(iou_pred, iou)
        )
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    ious.append(round(iou.mean().item(), 6))
    print(f"step {step}: loss {loss.item():.4f}, mean IoU {iou.mean().item():.3f}")
shapes = [tuple(masks.shape), tuple(iou_pred.shape), tuple(sparse.shape), tuple(dense.shape)]
with torch.no_grad():
    single = mask_decoder(image_embeddings[:1], prompt_encoder.get_dense_pe(), sparse, dense, False)
single_shapes = [tuple(t.shape) for t in single]
