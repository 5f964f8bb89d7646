"""The adversarial example generation tutorial (FGSM, Goodfellow et al. 2015), as written for
PyTorch: train the LeNet-style MNIST net briefly on synthetic 12x12 digits-like images, then
attack each test image with the fast gradient sign method at growing epsilons and record the
accuracy and some adversarial examples. A targeted iterative variant (PGD) follows."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

epsilons = [0, 0.05, 0.1, 0.2, 0.3]
use_cuda = True
torch.manual_seed(42)
device = torch.device("cuda" if use_cuda and torch.cuda.is_available() else "cpu")
print("CUDA Available: ", torch.cuda.is_available())

side, n_classes = 12, 4


def make_data(n):
    """Four classes of strokes (horizontal, vertical, two diagonals) with jitter and noise."""
    x = torch.zeros(n, 1, side, side)
    y = torch.randint(0, n_classes, (n,))
    idx = torch.arange(8)
    for i in range(n):
        r, c = torch.randint(0, side - 8, (2,)).tolist()
        if y[i] == 0:
            x[i, 0, r + 4, c : c + 8] = 1.0
        elif y[i] == 1:
            x[i, 0, r : r + 8, c + 4] = 1.0
        elif y[i] == 2:
            x[i, 0, r + idx, c + idx] = 1.0
        else:
            x[i, 0, r + idx, c + 7 - idx] = 1.0
    x = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    return x, y


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, n_classes)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


train_loader = DataLoader(TensorDataset(*make_data(512)), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(*make_data(50)), batch_size=1, shuffle=True)

model = Net().to(device)
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
for epoch in range(3):
    model.train()
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()

# Set the model in evaluation mode. In this case this is for the Dropout layers
model.eval()


# FGSM attack code
def fgsm_attack(image, epsilon, data_grad):
    # Collect the element-wise sign of the data gradient
    sign_data_grad = data_grad.sign()
    # Create the perturbed image by adjusting each pixel of the input image
    perturbed_image = image + epsilon * sign_data_grad
    # Adding clipping to maintain [0,1] range
    perturbed_image = torch.clamp(perturbed_image, 0, 1)
    # Return the perturbed image
    return perturbed_image


def test(model, device, test_loader, epsilon):
    # Accuracy counter
    correct = 0
    adv_examples = []

    # Loop over all examples in test set
    for data, target in test_loader:
        # Send the data and label to the device
        data, target = data.to(device), target.to(device)

        # Set requires_grad attribute of tensor. Important for Attack
        data.requires_grad = True

        # Forward pass the data through the model
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]  # get the index of the max log-probability

        # If the initial prediction is wrong, don't bother attacking, just move on
        if init_pred.item() != target.item():
            continue

        # Calculate the loss
        loss = F.nll_loss(output, target)

        # Zero all existing gradients
        model.zero_grad()

        # Calculate gradients of model in backward pass
        loss.backward()

        # Collect ``datagrad``
        data_grad = data.grad.data

        # Call FGSM Attack
        perturbed_data = fgsm_attack(data, epsilon, data_grad)

        # Re-classify the perturbed image
        output = model(perturbed_data)

        # Check for success
        final_pred = output.max(1, keepdim=True)[1]  # get the index of the max log-probability
        if final_pred.item() == target.item():
            correct += 1
            # Special case for saving 0 epsilon examples
            if epsilon == 0 and len(adv_examples) < 5:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
        else:
            # Save some adv examples for visualization later
            if len(adv_examples) < 5:
                adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))

    # Calculate final accuracy for this epsilon
    final_acc = correct / float(len(test_loader))
    print(f"Epsilon: {epsilon}\tTest Accuracy = {correct} / {len(test_loader)} = {final_acc}")

    # Return the accuracy and an adversarial example
    return final_acc, adv_examples


accuracies = []
examples = []

# Run test for each epsilon
for eps in epsilons:
    acc, ex = test(model, device, test_loader, eps)
    accuracies.append(acc)
    examples.append(ex)


def pgd_targeted(model, images, target, epsilon=0.3, alpha=0.05, steps=10):
    """Projected gradient descent towards ``target`` inside the L-inf ball around ``images``."""
    adv = images.clone().detach()
    for _ in range(steps):
        adv.requires_grad_(True)
        loss = F.nll_loss(model(adv), target)
        (grad,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            adv = adv - alpha * grad.sign()
            adv = torch.max(torch.min(adv, images + epsilon), images - epsilon).clamp_(0, 1)
    return adv.detach()


images, labels = next(iter(DataLoader(test_loader.dataset, batch_size=32)))
images, labels = images.to(device), labels.to(device)
targets = (labels + 1) % n_classes
adv = pgd_targeted(model, images, targets)
with torch.no_grad():
    clean_correct = model(images).argmax(dim=1).eq(labels).sum().item()
    hit = model(adv).argmax(dim=1).eq(targets.view_as(labels)).sum().item()
linf = (adv - images).abs().max().item()
print(f"PGD: clean {clean_correct}/32, targeted hits {hit}/32, L-inf {linf:.3f}")
mean_abs = np.mean([np.abs(ex[2]).mean() for ex in examples[-1]]) if examples[-1] else 0.0
