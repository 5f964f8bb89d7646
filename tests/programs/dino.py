"""DINO self-distillation (Caron et al. 2021) as facebookresearch/dino's main_dino.py writes it,
scaled down: multi-crop augmentation (2 global + 4 local crops resized with F.interpolate,
random flips), a student and an EMA teacher sharing the architecture (teacher's
requires_grad off), a DINOHead with weight_norm on the last layer (weight_g fixed to 1),
DINOLoss with a center buffer updated by EMA of the teacher outputs, temperature schedules
(np.linspace warmup), cosine schedules for lr, weight decay and momentum (cosine_scheduler),
param groups without weight decay for biases and norms, clip_gradients, the last layer
frozen in the first epoch (cancel_gradients_last_layer), and the momentum update under
torch.no_grad with param_k.data.mul_(m).add_((1 - m) * param_q.detach().data)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
np.random.seed(0)


def cosine_scheduler(
    base_value, final_value, epochs, niter_per_ep, warmup_epochs=0, start_warmup_value=0
):
    warmup_schedule = np.array([])
    warmup_iters = warmup_epochs * niter_per_ep
    if warmup_epochs > 0:
        warmup_schedule = np.linspace(start_warmup_value, base_value, warmup_iters)
    iters = np.arange(epochs * niter_per_ep - warmup_iters)
    schedule = final_value + 0.5 * (base_value - final_value) * (
        1 + np.cos(np.pi * iters / len(iters))
    )
    schedule = np.concatenate((warmup_schedule, schedule))
    assert len(schedule) == epochs * niter_per_ep
    return schedule


class DINOHead(nn.Module):
    def __init__(
        self, in_dim, out_dim, norm_last_layer=True, nlayers=3, hidden_dim=64, bottleneck_dim=16
    ):
        super().__init__()
        layers = [nn.Linear(in_dim, hidden_dim), nn.GELU()]
        for _ in range(nlayers - 2):
            layers.append(nn.Linear(hidden_dim, hidden_dim))
            layers.append(nn.GELU())
        layers.append(nn.Linear(hidden_dim, bottleneck_dim))
        self.mlp = nn.Sequential(*layers)
        self.apply(self._init_weights)
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck_dim, out_dim, bias=False))
        self.last_layer.weight_g.data.fill_(1)
        if norm_last_layer:
            self.last_layer.weight_g.requires_grad = False

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.mlp(x)
        x = nn.functional.normalize(x, dim=-1, p=2)
        x = self.last_layer(x)
        return x


class Backbone(nn.Module):
    """A small CNN; any input size (adaptive pooling), as the global and local crops differ."""

    def __init__(self, dim=32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, dim, 3, padding=1, stride=2), nn.BatchNorm2d(dim), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.embed_dim = dim

    def forward(self, x):
        return self.net(x)


class MultiCropWrapper(nn.Module):
    def __init__(self, backbone, head):
        super(MultiCropWrapper, self).__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        # convert to list
        if not isinstance(x, list):
            x = [x]
        idx_crops = torch.cumsum(
            torch.unique_consecutive(
                torch.tensor([inp.shape[-1] for inp in x]), return_counts=True
            )[1],
            0,
        )
        start_idx, output = 0, torch.empty(0).to(x[0].device)
        for end_idx in idx_crops:
            _out = self.backbone(torch.cat(x[start_idx:end_idx]))
            # accumulate outputs
            output = torch.cat((output, _out))
            start_idx = end_idx
        # Run the head forward on the concatenated features.
        return self.head(output)


class DINOLoss(nn.Module):
    def __init__(self, out_dim, ncrops, warmup_teacher_temp, teacher_temp, warmup_teacher_temp_epochs,
                 nepochs, student_temp=0.1, center_momentum=0.9):  # fmt: skip
        super().__init__()
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.ncrops = ncrops
        self.register_buffer("center", torch.zeros(1, out_dim))
        # we apply a warm up for the teacher temperature because
        # a too high temperature makes the training instable at the beginning
        self.teacher_temp_schedule = np.concatenate((
            np.linspace(warmup_teacher_temp, teacher_temp, warmup_teacher_temp_epochs),
            np.ones(nepochs - warmup_teacher_temp_epochs) * teacher_temp,
        ))  # fmt: skip

    def forward(self, student_output, teacher_output, epoch):
        student_out = student_output / self.student_temp
        student_out = student_out.chunk(self.ncrops)
        # teacher centering and sharpening
        temp = self.teacher_temp_schedule[epoch]
        teacher_out = F.softmax((teacher_output - self.center) / temp, dim=-1)
        teacher_out = teacher_out.detach().chunk(2)
        total_loss = 0
        n_loss_terms = 0
        for iq, q in enumerate(teacher_out):
            for v in range(len(student_out)):
                if v == iq:
                    # we skip cases where student and teacher operate on the same view
                    continue
                loss = torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1)
                total_loss += loss.mean()
                n_loss_terms += 1
        total_loss /= n_loss_terms
        self.update_center(teacher_output)
        return total_loss

    @torch.no_grad()
    def update_center(self, teacher_output):
        batch_center = torch.sum(teacher_output, dim=0, keepdim=True)
        batch_center = batch_center / len(teacher_output)
        # ema update
        self.center = self.center * self.center_momentum + batch_center * (1 - self.center_momentum)


def get_params_groups(model):
    regularized, not_regularized = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        # we do not regularize biases nor Norm parameters
        if name.endswith(".bias") or len(param.shape) == 1:
            not_regularized.append(param)
        else:
            regularized.append(param)
    return [{"params": regularized}, {"params": not_regularized, "weight_decay": 0.0}]


def clip_gradients(model, clip):
    norms = []
    for name, p in model.named_parameters():
        if p.grad is not None:
            param_norm = p.grad.data.norm(2)
            norms.append(param_norm.item())
            clip_coef = clip / (param_norm + 1e-6)
            if clip_coef < 1:
                p.grad.data.mul_(clip_coef)
    return norms


def cancel_gradients_last_layer(epoch, model, freeze_last_layer):
    if epoch >= freeze_last_layer:
        return
    for n, p in model.named_parameters():
        if "last_layer" in n:
            p.grad = None


def multi_crop(images, n_local=4):
    """2 global crops (12x12 resized to 16x16) and n_local local crops (6x6 resized to 8x8)."""

    def crop(img, size, out):
        i, j = np.random.randint(0, 16 - size + 1, 2)
        c = img[:, :, i : i + size, j : j + size]
        c = F.interpolate(c, size=(out, out), mode="bilinear", align_corners=False)
        return torch.flip(c, dims=[3]) if np.random.rand() < 0.5 else c

    return [crop(images, 12, 16) for _ in range(2)] + [crop(images, 6, 8) for _ in range(n_local)]


def make_images(n):
    """Four classes of 16x16 images: horizontal/vertical stripes, checkerboard, a blob."""
    y = torch.randint(0, 4, (n,))
    g = torch.arange(16)
    pats = torch.stack([
        (g[:, None] % 4 < 2).float().expand(16, 16), (g[None, :] % 4 < 2).float().expand(16, 16),
        ((g[:, None] // 2 + g[None, :] // 2) % 2).float(),
        (((g[:, None] - 7.5) ** 2 + (g[None, :] - 7.5) ** 2) < 30).float(),
    ])  # fmt: skip
    return (pats[y] + 0.2 * torch.randn(n, 16, 16)).unsqueeze(1), y


out_dim, epochs, batch = 64, 3, 32
train_x, train_y = make_images(128)
student = MultiCropWrapper(Backbone(), DINOHead(32, out_dim))
teacher = MultiCropWrapper(Backbone(), DINOHead(32, out_dim))
teacher.load_state_dict(student.state_dict())
for p in teacher.parameters():
    p.requires_grad = False
dino_loss = DINOLoss(out_dim, 6, 0.04, 0.07, 2, epochs)
params_groups = get_params_groups(student)
optimizer = torch.optim.AdamW(params_groups)
niter = len(train_x) // batch
lr_schedule = cosine_scheduler(5e-3, 1e-4, epochs, niter, warmup_epochs=1)
wd_schedule = cosine_scheduler(0.04, 0.4, epochs, niter)
momentum_schedule = cosine_scheduler(0.99, 1.0, epochs, niter)
losses, centers = [], []
last_layer_frozen = []
for epoch in range(epochs):
    perm = torch.randperm(len(train_x))
    for it_in_epoch in range(niter):
        it = niter * epoch + it_in_epoch
        for i, param_group in enumerate(optimizer.param_groups):
            param_group["lr"] = lr_schedule[it]
            if i == 0:  # only the first group is regularized
                param_group["weight_decay"] = wd_schedule[it]
        images = multi_crop(train_x[perm[it_in_epoch * batch : (it_in_epoch + 1) * batch]])
        teacher_output = teacher(images[:2])  # only the 2 global views pass through the teacher
        student_output = student(images)
        loss = dino_loss(student_output, teacher_output, epoch)
        optimizer.zero_grad()
        loss.backward()
        clip_gradients(student, 3.0)
        cancel_gradients_last_layer(epoch, student, 1)
        last_layer_frozen.append(student.head.last_layer.weight_v.grad is None)
        optimizer.step()
        # EMA update for the teacher
        with torch.no_grad():
            m = momentum_schedule[it]  # momentum parameter
            for param_q, param_k in zip(student.parameters(), teacher.parameters()):
                param_k.data.mul_(m).add_((1 - m) * param_q.detach().data)
        losses.append(loss.item())
        centers.append(dino_loss.center.norm().item())
    print(
        f"epoch {epoch}: loss {np.mean(losses[-niter:]):.4f}, lr {optimizer.param_groups[0]['lr']:.2e}"
    )

teacher_differs = max(
    (p - q).abs().max().item() for p, q in zip(student.parameters(), teacher.parameters())
)
weight_g_fixed = bool((student.head.last_layer.weight_g == 1).all())


# k-NN evaluation of the teacher's backbone features
@torch.no_grad()
def features(x):
    teacher.eval()
    return F.normalize(teacher.backbone(x), dim=1)


test_x, test_y = make_images(64)
sims = features(test_x) @ features(train_x).T
knn_pred = train_y[sims.topk(5, dim=1).indices].mode(dim=1).values
knn_acc = (knn_pred == test_y).float().mean().item()
print(f"teacher k-NN accuracy {knn_acc:.3f} (chance 0.25)")
