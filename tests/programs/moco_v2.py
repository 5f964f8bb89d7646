"""MoCo v2 (He et al.; Chen et al.), following the reference ``moco/builder.py``: a query
encoder and a momentum key encoder whose parameters start as copies (``param_k.data.copy_``,
``requires_grad = False``) and follow by ``param_k.data = param_k.data * m + param_q.data *
(1. - m)``; a queue of negatives kept as a registered buffer, normalized along dim 0 and
overwritten in ``torch.no_grad`` at a ring pointer (``queue_ptr`` buffer); the single-GPU
emulation of shuffle-BN (``torch.randperm`` / ``argsort`` to unshuffle); logits built with
``einsum("nc,nc->n")`` and ``einsum("nc,ck->nk")``, temperature 0.2, labels all zero and
``nn.CrossEntropyLoss``; an MLP head (v2); SGD with a cosine schedule; then a kNN monitor on
the frozen features."""

import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)


class base_encoder(nn.Module):  # a torchvision-style model: features, then ``fc``
    def __init__(self, num_classes=8, in_dim=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Linear(in_dim, 24), nn.BatchNorm1d(24), nn.ReLU(inplace=True), nn.Linear(24, 16)
        )
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


class MoCo(nn.Module):
    def __init__(self, dim=8, K=48, m=0.99, T=0.2, mlp=True):
        super().__init__()
        self.K, self.m, self.T = K, m, T
        self.encoder_q = base_encoder(num_classes=dim)
        self.encoder_k = base_encoder(num_classes=dim)
        if mlp:  # hack: brute-force replacement
            dim_mlp = self.encoder_q.fc.weight.shape[1]
            self.encoder_q.fc = nn.Sequential(
                nn.Linear(dim_mlp, dim_mlp), nn.ReLU(), self.encoder_q.fc
            )
            self.encoder_k.fc = nn.Sequential(
                nn.Linear(dim_mlp, dim_mlp), nn.ReLU(), self.encoder_k.fc
            )
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data.copy_(param_q.data)  # initialize
            param_k.requires_grad = False  # not update by gradient
        self.register_buffer("queue", torch.randn(dim, K))
        self.queue = nn.functional.normalize(self.queue, dim=0)
        self.register_buffer("queue_ptr", torch.zeros(1, dtype=torch.long))

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data = param_k.data * self.m + param_q.data * (1.0 - self.m)

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys):
        batch_size = keys.shape[0]
        ptr = int(self.queue_ptr)
        assert self.K % batch_size == 0  # for simplicity
        self.queue[:, ptr : ptr + batch_size] = keys.T
        ptr = (ptr + batch_size) % self.K  # move pointer
        self.queue_ptr[0] = ptr

    @torch.no_grad()
    def _batch_shuffle_single_gpu(self, x):
        idx_shuffle = torch.randperm(x.shape[0])
        idx_unshuffle = torch.argsort(idx_shuffle)
        return x[idx_shuffle], idx_unshuffle

    @torch.no_grad()
    def _batch_unshuffle_single_gpu(self, x, idx_unshuffle):
        return x[idx_unshuffle]

    def forward(self, im_q, im_k):
        q = self.encoder_q(im_q)  # queries: NxC
        q = nn.functional.normalize(q, dim=1)
        with torch.no_grad():  # no gradient to keys
            self._momentum_update_key_encoder()
            im_k, idx_unshuffle = self._batch_shuffle_single_gpu(im_k)
            k = self.encoder_k(im_k)  # keys: NxC
            k = nn.functional.normalize(k, dim=1)
            k = self._batch_unshuffle_single_gpu(k, idx_unshuffle)
        l_pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
        l_neg = torch.einsum("nc,ck->nk", [q, self.queue.clone().detach()])
        logits = torch.cat([l_pos, l_neg], dim=1)
        logits /= self.T
        labels = torch.zeros(logits.shape[0], dtype=torch.long)
        self._dequeue_and_enqueue(k)
        return logits, labels


def two_crops(x):
    def aug(v):
        scale = 1 + 0.2 * torch.randn(v.shape[0], 1)
        return v * scale + 0.25 * torch.randn_like(v)

    return aug(x), aug(x)


n_per, classes = 24, 4
prototypes = torch.randn(classes, 10) * 1.5
targets = torch.arange(classes).repeat_interleave(n_per)
images = prototypes[targets] + 0.4 * torch.randn(classes * n_per, 10)
loader = torch.utils.data.DataLoader(
    torch.utils.data.TensorDataset(images, targets), batch_size=16, shuffle=True, drop_last=True
)

model = MoCo()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(
    filter(lambda p: p.requires_grad, model.parameters()), lr=0.06, momentum=0.9, weight_decay=1e-4
)
epochs = 5
losses, top1, ptrs = [], [], []
for epoch in range(epochs):
    lr = 0.06 * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr
    for im, _ in loader:
        im_q, im_k = two_crops(im)
        output, target = model(im_q=im_q, im_k=im_k)
        loss = criterion(output, target)
        acc = (output.argmax(1) == target).float().mean() * 100
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        top1.append(acc.item())
        ptrs.append(int(model.queue_ptr))

trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
key_grads_none = all(p.grad is None for p in model.encoder_k.parameters())
queue_norms = model.queue.norm(dim=0)[:5].tolist()
buffer_names = [name for name, _ in model.named_buffers()][:3]

model.eval()
with torch.no_grad():
    bank = F.normalize(model.encoder_q.features(images), dim=1)
    sim = bank @ bank.T
    sim.fill_diagonal_(-1)
    nearest = sim.topk(5, dim=1).indices
    votes = F.one_hot(targets[nearest], classes).sum(1)
    knn_acc = (votes.argmax(1) == targets).float().mean().item()
