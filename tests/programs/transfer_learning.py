"""The "Transfer Learning for Computer Vision" tutorial, as written for PyTorch, with a tiny
ResNet-style backbone "pretrained" on another synthetic task (its weights saved and loaded as a
downloaded checkpoint would be) and synthetic ants/bees images: ``train_model`` with
train/val phases, ``torch.set_grad_enabled(phase == "train")``, ``torch.max(outputs, 1)``,
``running_corrects.double()``, the best weights kept in a temporary file and reloaded with
``weights_only=True``, ``StepLR``; then the backbone frozen (``requires_grad = False``) and
only a new ``fc`` trained as a fixed feature extractor; and ``visualize_model``'s
predictions with ``was_training``/``model.train(mode=was_training)``."""

import os
import tempfile
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, Dataset

torch.manual_seed(0)
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])


class SyntheticImages(Dataset):
    """Class c has a bright blob in the image's c-th half; ``train`` flips at random."""

    def __init__(self, n, num_classes, train):
        self.labels = torch.randint(0, num_classes, (n,))
        self.images = torch.rand(n, 3, 12, 12) * 0.5
        for i, c in enumerate(self.labels.tolist()):
            self.images[i, c % 3, 2 * c : 2 * c + 4, 3:9] += 0.5
        self.train = train

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        image = self.images[idx]
        if self.train and torch.rand(1) < 0.5:  # RandomHorizontalFlip
            image = torch.flip(image, dims=[2])
        return (image - mean[:, None, None]) / std[:, None, None], self.labels[idx]


class BasicBlock(nn.Module):
    def __init__(self, planes):
        super().__init__()
        self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + x)


class TinyResNet(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.layer1(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# "Pretraining" on a 4-class task; its weights play the downloaded checkpoint.
weights_dir = tempfile.TemporaryDirectory()
weights = os.path.join(weights_dir.name, "tiny_resnet.pth")
backbone = TinyResNet()
pre_loader = DataLoader(SyntheticImages(48, 4, True), batch_size=8, shuffle=True)
pre_opt = optim.SGD(backbone.parameters(), lr=0.05, momentum=0.9)
for inputs, labels in pre_loader:
    pre_opt.zero_grad()
    nn.functional.cross_entropy(backbone(inputs), labels).backward()
    pre_opt.step()
torch.save(backbone.state_dict(), weights)

image_datasets = {
    x: SyntheticImages(24 if x == "train" else 12, 2, x == "train") for x in ["train", "val"]
}
dataloaders = {
    x: DataLoader(image_datasets[x], batch_size=4, shuffle=True, num_workers=0)
    for x in ["train", "val"]
}
dataset_sizes = {x: len(image_datasets[x]) for x in ["train", "val"]}
class_names = ["ants", "bees"]
history = []


def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    since = time.time()
    with tempfile.TemporaryDirectory() as tempdir:
        best_model_params_path = os.path.join(tempdir, "best_model_params.pt")
        torch.save(model.state_dict(), best_model_params_path)
        best_acc = 0.0
        for epoch in range(num_epochs):
            print(f"Epoch {epoch}/{num_epochs - 1}")
            print("-" * 10)
            for phase in ["train", "val"]:
                if phase == "train":
                    model.train()
                else:
                    model.eval()
                running_loss = 0.0
                running_corrects = 0
                for inputs, labels in dataloaders[phase]:
                    inputs, labels = inputs.to(device), labels.to(device)
                    optimizer.zero_grad()
                    with torch.set_grad_enabled(phase == "train"):
                        outputs = model(inputs)
                        _, preds = torch.max(outputs, 1)
                        loss = criterion(outputs, labels)
                        if phase == "train":
                            loss.backward()
                            optimizer.step()
                    running_loss += loss.item() * inputs.size(0)
                    running_corrects += torch.sum(preds == labels.data)
                if phase == "train":
                    scheduler.step()
                epoch_loss = running_loss / dataset_sizes[phase]
                epoch_acc = running_corrects.double() / dataset_sizes[phase]
                print(f"{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}")
                history.append((phase, epoch_loss, epoch_acc.item(), str(epoch_acc.dtype)))
                if phase == "val" and epoch_acc > best_acc:
                    best_acc = epoch_acc
                    torch.save(model.state_dict(), best_model_params_path)
        time_elapsed = time.time() - since
        print(f"Training complete in {time_elapsed // 60:.0f}m {time_elapsed % 60:.0f}s")
        print(f"Best val Acc: {best_acc:4f}")
        model.load_state_dict(torch.load(best_model_params_path, weights_only=True))
    return model, float(best_acc)


def visualize_model(model, num_images=6):
    was_training = model.training
    model.eval()
    titles = []
    with torch.no_grad():
        for inputs, labels in dataloaders["val"]:
            _, preds = torch.max(model(inputs.to(device)), 1)
            for j in range(inputs.size()[0]):
                titles.append(f"predicted: {class_names[preds[j]]}")
                if len(titles) == num_images:
                    model.train(mode=was_training)
                    return titles
        model.train(mode=was_training)
    return titles


model_ft = TinyResNet()
model_ft.load_state_dict(torch.load(weights, weights_only=True))
num_ftrs = model_ft.fc.in_features
model_ft.fc = nn.Linear(num_ftrs, len(class_names))
model_ft = model_ft.to(device)
criterion = nn.CrossEntropyLoss()
optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.01, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=2, gamma=0.1)
model_ft, best_ft = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs=3)
ft_titles = visualize_model(model_ft)
ft_training_after = model_ft.training

model_conv = TinyResNet()
model_conv.load_state_dict(torch.load(weights, weights_only=True))
for param in model_conv.parameters():
    param.requires_grad = False
model_conv.fc = nn.Linear(num_ftrs, 2)  # parameters of newly constructed modules require grad
frozen_conv1 = model_conv.conv1.weight.clone()
optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.01, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=2, gamma=0.1)
model_conv, best_conv = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler, 3)
backbone_unchanged = torch.equal(frozen_conv1, model_conv.conv1.weight)
trainable = [n for n, p in model_conv.named_parameters() if p.requires_grad]
conv1_grad_is_none = model_conv.conv1.weight.grad is None
conv_titles = visualize_model(model_conv, num_images=4)
weights_dir.cleanup()
