"""PointNet classification as fxia22/pointnet.pytorch writes it, scaled down: STN3d and STNkd
(Conv1d over points, BatchNorm1d, torch.max over points with keepdim, an identity added with
Variable(torch.from_numpy(...)).view(1, 9).repeat(batchsize, 1)), the feature transform
regularizer ||I - A A^T|| via torch.bmm and torch.norm(dim=(1, 2)), PointNetfeat with global
features, log_softmax + nll_loss, StepLR; on synthetic point clouds (sphere, cube surface,
cylinder) randomly rotated about the up axis, BatchNorm statistics recomputed with update_bn
before evaluation, and permutation invariance checked."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable

torch.manual_seed(0)
np.random.seed(0)


class STN3d(nn.Module):
    def __init__(self):
        super(STN3d, self).__init__()
        self.conv1 = torch.nn.Conv1d(3, 16, 1)
        self.conv2 = torch.nn.Conv1d(16, 32, 1)
        self.conv3 = torch.nn.Conv1d(32, 64, 1)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 9)
        self.relu = nn.ReLU()
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(32)
        self.bn3 = nn.BatchNorm1d(64)
        self.bn4 = nn.BatchNorm1d(32)
        self.bn5 = nn.BatchNorm1d(16)

    def forward(self, x):
        batchsize = x.size()[0]
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        x = torch.max(x, 2, keepdim=True)[0]
        x = x.view(-1, 64)
        x = F.relu(self.bn4(self.fc1(x)))
        x = F.relu(self.bn5(self.fc2(x)))
        x = self.fc3(x)
        iden = (
            Variable(torch.from_numpy(np.array([1, 0, 0, 0, 1, 0, 0, 0, 1]).astype(np.float32)))
            .view(1, 9)
            .repeat(batchsize, 1)
        )
        if x.is_cuda:
            iden = iden.cuda()
        x = x + iden
        x = x.view(-1, 3, 3)
        return x


class STNkd(nn.Module):
    def __init__(self, k=16):
        super(STNkd, self).__init__()
        self.conv1 = torch.nn.Conv1d(k, 32, 1)
        self.conv2 = torch.nn.Conv1d(32, 64, 1)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, k * k)
        self.bn1 = nn.BatchNorm1d(32)
        self.bn2 = nn.BatchNorm1d(64)
        self.bn3 = nn.BatchNorm1d(32)
        self.k = k

    def forward(self, x):
        batchsize = x.size()[0]
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = torch.max(x, 2, keepdim=True)[0]
        x = x.view(-1, 64)
        x = F.relu(self.bn3(self.fc1(x)))
        x = self.fc2(x)
        iden = (
            Variable(torch.from_numpy(np.eye(self.k).flatten().astype(np.float32)))
            .view(1, self.k * self.k)
            .repeat(batchsize, 1)
        )
        x = x + iden
        x = x.view(-1, self.k, self.k)
        return x


class PointNetfeat(nn.Module):
    def __init__(self, global_feat=True, feature_transform=False):
        super(PointNetfeat, self).__init__()
        self.stn = STN3d()
        self.conv1 = torch.nn.Conv1d(3, 16, 1)
        self.conv2 = torch.nn.Conv1d(16, 32, 1)
        self.conv3 = torch.nn.Conv1d(32, 64, 1)
        self.bn1 = nn.BatchNorm1d(16)
        self.bn2 = nn.BatchNorm1d(32)
        self.bn3 = nn.BatchNorm1d(64)
        self.global_feat = global_feat
        self.feature_transform = feature_transform
        if self.feature_transform:
            self.fstn = STNkd(k=16)

    def forward(self, x):
        n_pts = x.size()[2]
        trans = self.stn(x)
        x = x.transpose(2, 1)
        x = torch.bmm(x, trans)
        x = x.transpose(2, 1)
        x = F.relu(self.bn1(self.conv1(x)))
        if self.feature_transform:
            trans_feat = self.fstn(x)
            x = x.transpose(2, 1)
            x = torch.bmm(x, trans_feat)
            x = x.transpose(2, 1)
        else:
            trans_feat = None
        pointfeat = x
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        x = torch.max(x, 2, keepdim=True)[0]
        x = x.view(-1, 64)
        if self.global_feat:
            return x, trans, trans_feat
        x = x.view(-1, 64, 1).repeat(1, 1, n_pts)
        return torch.cat([x, pointfeat], 1), trans, trans_feat


class PointNetCls(nn.Module):
    def __init__(self, k=3, feature_transform=False):
        super(PointNetCls, self).__init__()
        self.feature_transform = feature_transform
        self.feat = PointNetfeat(global_feat=True, feature_transform=feature_transform)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, k)
        self.dropout = nn.Dropout(p=0.3)
        self.bn1 = nn.BatchNorm1d(32)
        self.bn2 = nn.BatchNorm1d(16)
        self.relu = nn.ReLU()

    def forward(self, x):
        x, trans, trans_feat = self.feat(x)
        x = F.relu(self.bn1(self.fc1(x)))
        x = F.relu(self.bn2(self.dropout(self.fc2(x))))
        x = self.fc3(x)
        return F.log_softmax(x, dim=1), trans, trans_feat


def feature_transform_regularizer(trans):
    d = trans.size()[1]
    I = torch.eye(d)[None, :, :]  # noqa: E741
    if trans.is_cuda:
        I = I.cuda()  # noqa: E741
    loss = torch.mean(torch.norm(torch.bmm(trans, trans.transpose(2, 1)) - I, dim=(1, 2)))
    return loss


def make_cloud(kind, n=128):
    if kind == 0:  # sphere
        p = np.random.randn(n, 3)
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    elif kind == 1:  # cube surface
        p = np.random.uniform(-1, 1, (n, 3))
        axis = np.random.randint(0, 3, n)
        p[np.arange(n), axis] = np.sign(np.random.randn(n))
    else:  # cylinder
        theta = np.random.uniform(0, 2 * np.pi, n)
        p = np.stack([np.cos(theta), np.sin(theta), np.random.uniform(-1, 1, n)], 1)
    theta = np.random.uniform(0, 2 * np.pi)
    rotation_matrix = np.array(
        [[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]]
    )
    p = p @ rotation_matrix + np.random.normal(0, 0.02, size=p.shape)
    return p.astype(np.float32)


labels = np.random.randint(0, 3, 96)
points = torch.from_numpy(np.stack([make_cloud(k) for k in labels]))
target = torch.from_numpy(labels).long()
classifier = PointNetCls(k=3, feature_transform=True)
optimizer = torch.optim.Adam(classifier.parameters(), lr=0.005, betas=(0.9, 0.999))
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.4)
losses = []
for epoch in range(8):
    for i in range(0, 96, 32):
        pts, tgt = points[i : i + 32].transpose(2, 1), target[i : i + 32]
        optimizer.zero_grad()
        classifier = classifier.train()
        pred, trans, trans_feat = classifier(pts)
        loss = F.nll_loss(pred, tgt)
        loss += feature_transform_regularizer(trans_feat) * 0.001
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        pred_choice = pred.data.max(1)[1]
        correct = pred_choice.eq(tgt.data).cpu().sum()
    scheduler.step()
    print("[%d] train loss: %f accuracy: %f" % (epoch, loss.item(), correct.item() / float(32)))

# A few dozen steps leave the BatchNorm running statistics behind the weights: recompute them
torch.optim.swa_utils.update_bn(
    [points[i : i + 32].transpose(2, 1) for i in range(0, 96, 32)], classifier
)
classifier = classifier.eval()
test_labels = np.random.randint(0, 3, 48)
test_points = torch.from_numpy(np.stack([make_cloud(k) for k in test_labels]))
with torch.no_grad():
    pred, trans, trans_feat = classifier(test_points.transpose(2, 1))
    accuracy = (pred.argmax(1) == torch.from_numpy(test_labels)).float().mean().item()
    shuffled = test_points[:, torch.randperm(128)]
    pred_shuffled, _, _ = classifier(shuffled.transpose(2, 1))
    permutation_gap = (pred - pred_shuffled).abs().max().item()
    reg_identity = feature_transform_regularizer(torch.eye(16).expand(2, 16, 16)).item()
final_lr = optimizer.param_groups[0]["lr"]
print(f"test accuracy {accuracy:.3f}, permutation gap {permutation_gap:.2e}")
