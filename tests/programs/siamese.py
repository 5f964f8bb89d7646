"""Siamese networks as pytorch/examples' siamese_network writes them, on synthetic 10x10
"glyphs" instead of MNIST: a Dataset subclass that pairs images of the same or different
classes, a shared CNN on both inputs, torch.cat of the two embeddings into a classifier with
a sigmoid and BCELoss, Adadelta with StepLR; then metric learning of the same encoder with
nn.TripletMarginLoss and nn.TripletMarginWithDistanceLoss (cosine distance)."""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, Dataset

random.seed(0)
torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
n_classes, side = 5, 10
templates = (torch.rand(n_classes, 1, side, side) > 0.6).float()


def make_images(n):
    labels = torch.randint(0, n_classes, (n,))
    images = templates[labels] + 0.3 * torch.randn(n, 1, side, side)
    shifts = torch.randint(-1, 2, (n, 2))
    for i in range(n):
        images[i] = torch.roll(images[i], shifts=tuple(shifts[i].tolist()), dims=(1, 2))
    return images, labels


class APP_MATCHER(Dataset):
    """Pairs (image_1, image_2, target): target 1 for the same class, 0 for different ones."""

    def __init__(self, n):
        super(APP_MATCHER, self).__init__()
        self.images, self.targets = make_images(n)
        self.group_examples()

    def group_examples(self):
        self.grouped_examples = {}
        for i in range(n_classes):
            self.grouped_examples[i] = torch.nonzero(self.targets == i).flatten().tolist()

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, index):
        selected_class = random.randint(0, n_classes - 1)
        index_1 = random.choice(self.grouped_examples[selected_class])
        image_1 = self.images[index_1].clone().float()
        if index % 2 == 0:  # same class
            index_2 = random.choice(self.grouped_examples[selected_class])
            image_2 = self.images[index_2].clone().float()
            target = torch.tensor(1, dtype=torch.float)
        else:
            other_selected_class = random.randint(0, n_classes - 1)
            while other_selected_class == selected_class:
                other_selected_class = random.randint(0, n_classes - 1)
            index_2 = random.choice(self.grouped_examples[other_selected_class])
            image_2 = self.images[index_2].clone().float()
            target = torch.tensor(0, dtype=torch.float)
        return image_1, image_2, target


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 2 * 2, 32),
        )  # fmt: skip
        self.fc_in_features = 32

    def forward(self, x):
        return self.net(x)


class SiameseNetwork(nn.Module):
    def __init__(self):
        super(SiameseNetwork, self).__init__()
        self.encoder = Encoder()
        self.fc_in_features = self.encoder.fc_in_features
        self.fc = nn.Sequential(
            nn.Linear(self.fc_in_features * 2, 64), nn.ReLU(inplace=True), nn.Linear(64, 1)
        )
        self.sigmoid = nn.Sigmoid()
        self.encoder.apply(self.init_weights)
        self.fc.apply(self.init_weights)

    def init_weights(self, m):
        if isinstance(m, nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            m.bias.data.fill_(0.01)

    def forward_once(self, x):
        output = self.encoder(x)
        return output.view(output.size()[0], -1)

    def forward(self, input1, input2):
        output1 = self.forward_once(input1)
        output2 = self.forward_once(input2)
        output = torch.cat((output1, output2), 1)
        output = self.fc(output)
        return self.sigmoid(output)


def train(model, device, train_loader, optimizer, epoch):
    model.train()
    criterion = nn.BCELoss()
    total = 0.0
    for batch_idx, (images_1, images_2, targets) in enumerate(train_loader):
        images_1, images_2, targets = images_1.to(device), images_2.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(images_1, images_2).squeeze()
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(train_loader)


def test(model, device, test_loader):
    model.eval()
    test_loss, correct = 0, 0
    criterion = nn.BCELoss()
    with torch.no_grad():
        for images_1, images_2, targets in test_loader:
            images_1, images_2, targets = (
                images_1.to(device),
                images_2.to(device),
                targets.to(device),
            )
            outputs = model(images_1, images_2).squeeze()
            test_loss += criterion(outputs, targets).sum().item()  # sum up batch loss
            pred = torch.where(outputs > 0.5, 1, 0)  # get the index of the max log-probability
            correct += pred.eq(targets.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print(
        "\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(
            test_loss, correct, len(test_loader.dataset), 100.0 * correct / len(test_loader.dataset)
        )
    )
    return correct / len(test_loader.dataset)


train_loader = DataLoader(APP_MATCHER(128), batch_size=64, shuffle=True)
test_loader = DataLoader(APP_MATCHER(64), batch_size=64, shuffle=False)
model = SiameseNetwork().to(device)
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
train_losses, accuracies = [], []
for epoch in range(1, 7):
    train_losses.append(train(model, device, train_loader, optimizer, epoch))
    accuracies.append(test(model, device, test_loader))
    scheduler.step()

# Metric learning with triplets: anchor and positive share a class, the negative does not
images, labels = make_images(300)
by_class = [torch.nonzero(labels == c).flatten() for c in range(n_classes)]


def triplets(n):
    anchor_cls = torch.randint(0, n_classes, (n,))
    neg_cls = (anchor_cls + torch.randint(1, n_classes, (n,))) % n_classes
    pick = lambda cls: torch.stack(  # noqa: E731
        [by_class[c][torch.randint(0, len(by_class[c]), (1,))].squeeze(0) for c in cls.tolist()]
    )
    return images[pick(anchor_cls)], images[pick(anchor_cls)], images[pick(neg_cls)]


results = {}
for name, criterion in [
    ("euclidean", nn.TripletMarginLoss(margin=1.0, p=2)),
    (
        "cosine",
        nn.TripletMarginWithDistanceLoss(
            distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y), margin=0.5
        ),
    ),
]:
    torch.manual_seed(1)
    encoder = Encoder().to(device)
    opt = optim.Adam(encoder.parameters(), lr=3e-3)
    history = []
    for step in range(40):
        a, p, n = triplets(32)
        loss = criterion(encoder(a).flatten(1), encoder(p).flatten(1), encoder(n).flatten(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    with torch.no_grad():
        emb = F.normalize(encoder(images).flatten(1), dim=1)
        dist = torch.cdist(emb, emb)
        dist.fill_diagonal_(float("inf"))
        nearest = dist.argmin(1)
        knn_accuracy = (labels[nearest] == labels).float().mean().item()
    results[name] = (history, knn_accuracy)
    print(f"{name} triplets: loss {history[0]:.3f} -> {history[-1]:.3f}, 1-NN {knn_accuracy:.3f}")
