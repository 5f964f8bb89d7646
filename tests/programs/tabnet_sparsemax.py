"""TabNet on a synthetic tabular task, as dreamquark-ai/pytorch-tabnet writes its pieces: a
hand-written sparsemax (sort, cumsum, the threshold tau, and a custom autograd.Function for its
backward), ghost batch normalization (BatchNorm1d over chunks of the batch), GLU feature
transformer blocks with sqrt(0.5) residual scaling, attentive transformers with a prior that
discourages re-using features, and the sparsity regularizer on the masks. The target depends on
features 0 and 3 only, so the learned masks should concentrate there."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class SparsemaxFunction(torch.autograd.Function):
    """sparsemax(z) = argmin_p ||p - z||^2 over the simplex (Martins & Astudillo, 2016)."""

    @staticmethod
    def forward(ctx, input, dim=-1):
        ctx.dim = dim
        max_val, _ = input.max(dim=dim, keepdim=True)
        input = input - max_val  # same numerical stability trick as for softmax
        tau, supp_size = SparsemaxFunction._threshold_and_support(input, dim=dim)
        output = torch.clamp(input - tau, min=0)
        ctx.save_for_backward(supp_size, output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        supp_size, output = ctx.saved_tensors
        dim = ctx.dim
        grad_input = grad_output.clone()
        grad_input[output == 0] = 0
        v_hat = grad_input.sum(dim=dim) / supp_size.to(output.dtype).squeeze(dim)
        v_hat = v_hat.unsqueeze(dim)
        grad_input = torch.where(output != 0, grad_input - v_hat, grad_input)
        return grad_input, None

    @staticmethod
    def _threshold_and_support(input, dim=-1):
        input_srt, _ = torch.sort(input, descending=True, dim=dim)
        input_cumsum = input_srt.cumsum(dim) - 1
        rhos = torch.arange(1, input.size(dim) + 1, device=input.device, dtype=input.dtype)
        support = rhos * input_srt > input_cumsum
        support_size = support.sum(dim=dim).unsqueeze(dim)
        tau = input_cumsum.gather(dim, support_size - 1)
        tau /= support_size.to(input.dtype)
        return tau, support_size


sparsemax = SparsemaxFunction.apply


class GBN(nn.Module):
    """Ghost batch normalization: batch statistics over virtual batches."""

    def __init__(self, input_dim, virtual_batch_size=16, momentum=0.02):
        super().__init__()
        self.virtual_batch_size = virtual_batch_size
        self.bn = nn.BatchNorm1d(input_dim, momentum=momentum)

    def forward(self, x):
        chunks = x.chunk(int(torch.ceil(torch.tensor(x.shape[0] / self.virtual_batch_size))), 0)
        return torch.cat([self.bn(x_) for x_ in chunks], dim=0)


class GLUBlock(nn.Module):
    def __init__(self, input_dim, output_dim, residual):
        super().__init__()
        self.fc = nn.Linear(input_dim, 2 * output_dim, bias=False)
        self.bn = GBN(2 * output_dim)
        self.residual = residual

    def forward(self, x):
        out = F.glu(self.bn(self.fc(x)), dim=-1)
        return (x + out) * torch.sqrt(torch.tensor(0.5)) if self.residual else out


class AttentiveTransformer(nn.Module):
    def __init__(self, input_dim, n_features):
        super().__init__()
        self.fc = nn.Linear(input_dim, n_features, bias=False)
        self.bn = GBN(n_features)

    def forward(self, priors, processed_feat):
        return sparsemax(self.bn(self.fc(processed_feat)) * priors)


class TabNet(nn.Module):
    def __init__(self, n_features, n_d=8, n_a=8, n_steps=3, gamma=1.3):
        super().__init__()
        self.n_d, self.n_steps, self.gamma = n_d, n_steps, gamma
        self.initial_bn = nn.BatchNorm1d(n_features, momentum=0.01)
        self.shared = GLUBlock(n_features, n_d + n_a, residual=False)
        self.step_blocks = nn.ModuleList(
            [GLUBlock(n_d + n_a, n_d + n_a, residual=True) for _ in range(n_steps + 1)]
        )
        self.att = nn.ModuleList([AttentiveTransformer(n_a, n_features) for _ in range(n_steps)])
        self.head = nn.Linear(n_d, 1)

    def forward(self, x):
        x = self.initial_bn(x)
        prior = torch.ones_like(x)
        att = self.step_blocks[0](self.shared(x))[:, self.n_d :]
        out, m_loss, masks = 0, 0, []
        for step in range(self.n_steps):
            M = self.att[step](prior, att)
            m_loss = m_loss + torch.mean(torch.sum(torch.mul(M, torch.log(M + 1e-15)), dim=1))
            prior = torch.mul(self.gamma - M, prior)
            h = self.step_blocks[step + 1](self.shared(torch.mul(M, x)))
            out = out + F.relu(h[:, : self.n_d])
            att = h[:, self.n_d :]
            masks.append(M)
        return self.head(out).squeeze(-1), m_loss / self.n_steps, torch.stack(masks)


torch.manual_seed(0)
torch.set_default_dtype(torch.float64)  # sparsemax's support flips on rounding: train in double
X = torch.randn(256, 6)
y = (X[:, 0] * 2 - X[:, 3] > 0).float()  # float32 labels: the loss is float32

# sparsemax against gradcheck and its defining properties
z = torch.randn(4, 5, dtype=torch.double, requires_grad=True)
sparsemax_gradcheck = torch.autograd.gradcheck(sparsemax, (z,))
p = sparsemax(torch.tensor([[0.1, 1.2, 1.0, -2.0], [3.0, 0.0, 0.0, 0.0]]))
sparsemax_rows = p.tolist()
sparsemax_sums = p.sum(-1).tolist()

model = TabNet(6)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
losses = []
for epoch in range(8):
    for i in range(0, 256, 64):
        logits, m_loss, _ = model(X[i : i + 64])
        bce = F.binary_cross_entropy_with_logits(logits, y[i : i + 64])
        loss = bce + 1e-3 * m_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

bce_dtype = str(bce.dtype)  # the target's: float32, with float64 logits
model.eval()
with torch.no_grad():
    logits, _, masks = model(X)
accuracy = ((logits > 0).float() == y).float().mean().item()
importance = masks.sum(dim=(0, 1))
importance = (importance / importance.sum()).tolist()
mask_zero_fraction = (masks == 0).float().mean().item()
running_mean = model.initial_bn.running_mean.tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {accuracy:.3f}")
print("feature importance", [round(v, 3) for v in importance])
torch.set_default_dtype(torch.float32)
