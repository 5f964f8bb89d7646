"""The "Knowledge Distillation Tutorial"'s intermediate regressor run, as written for PyTorch,
on tiny synthetic images: a convolutional teacher (``DeepNN``) and student (``LightNN``)
whose ``Modified...Regressor`` forms also return their last convolutional feature map, the
student's passed through a ``regressor`` convolution to the teacher's channels, trained with
``feature_map_weight * MSELoss(regressor map, teacher map) + ce_loss_weight * CrossEntropyLoss``
while the teacher stays frozen under ``torch.no_grad()``; parameter counts printed with
``{:,}``, the student initialised from the plain student's weights by ``load_state_dict``
(``strict=False``: the regressor is new) and every run's test accuracy."""

import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = "cpu"
num_classes = 4


def make_images(n):
    """Four classes: a bright blob in one of the four quadrants of an 8x8 RGB image."""
    labels = torch.randint(0, num_classes, (n,))
    images = 0.5 * torch.randn(n, 3, 8, 8)
    for i, label in enumerate(labels.tolist()):
        r, c = divmod(label, 2)
        images[i, label % 3, 4 * r : 4 * r + 4, 4 * c : 4 * c + 4] += 1.5
    return images, labels


train_loader = DataLoader(TensorDataset(*make_images(128)), batch_size=32, shuffle=True)
test_loader = DataLoader(TensorDataset(*make_images(64)), batch_size=64, shuffle=False)


class DeepNN(nn.Module):
    def __init__(self, num_classes=4):
        super(DeepNN, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(16, 8, kernel_size=3, padding=1),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(128, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, num_classes)
        )

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


class LightNN(nn.Module):
    def __init__(self, num_classes=4):
        super(LightNN, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


class ModifiedDeepNNRegressor(DeepNN):
    def forward(self, x):
        x = self.features(x)
        conv_feature_map = x
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x, conv_feature_map


class ModifiedLightNNRegressor(LightNN):
    def __init__(self, num_classes=4):
        super().__init__(num_classes)
        # Include an extra regressor (in our case linear)
        self.regressor = nn.Sequential(nn.Conv2d(4, 8, kernel_size=3, padding=1))

    def forward(self, x):
        x = self.features(x)
        regressor_output = self.regressor(x)
        x = torch.flatten(x, 1)
        x = self.classifier(x)
        return x, regressor_output


def train(model, train_loader, epochs, learning_rate, device):
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        print(f"Epoch {epoch + 1}/{epochs}, Loss: {running_loss / len(train_loader)}")


def test(model, test_loader, device):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, labels in test_loader:
            outputs = model(inputs)
            if isinstance(outputs, tuple):
                outputs = outputs[0]
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    accuracy = 100 * correct / total
    print(f"Test Accuracy: {accuracy:.2f}%")
    return accuracy


def train_mse_loss(teacher, student, train_loader, epochs, learning_rate, feature_map_weight,
                   ce_loss_weight, device):  # fmt: skip
    ce_loss = nn.CrossEntropyLoss()
    mse_loss = nn.MSELoss()
    optimizer = optim.Adam(student.parameters(), lr=learning_rate)
    teacher.eval()  # Teacher set to evaluation mode
    student.train()  # Student to train mode
    epoch_losses = []
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            optimizer.zero_grad()
            # Again ignore teacher logits
            with torch.no_grad():
                _, teacher_feature_map = teacher(inputs)
            # Forward pass with the student model
            student_logits, regressor_feature_map = student(inputs)
            # Calculate the loss
            hidden_rep_loss = mse_loss(regressor_feature_map, teacher_feature_map)
            # Calculate the true label loss
            label_loss = ce_loss(student_logits, labels)
            # Weighted sum of the two losses
            loss = feature_map_weight * hidden_rep_loss + ce_loss_weight * label_loss
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        epoch_losses.append(running_loss / len(train_loader))
        print(f"Epoch {epoch + 1}/{epochs}, Loss: {running_loss / len(train_loader)}")
    return epoch_losses


nn_deep = DeepNN(num_classes=num_classes).to(device)
train(nn_deep, train_loader, epochs=3, learning_rate=0.01, device=device)
test_accuracy_deep = test(nn_deep, test_loader, device)

torch.manual_seed(42)
nn_light = LightNN(num_classes=num_classes).to(device)
torch.manual_seed(42)
new_nn_light = LightNN(num_classes=num_classes).to(device)
print("Norm of 1st layer of nn_light:", torch.norm(nn_light.features[0].weight).item())
print("Norm of 1st layer of new_nn_light:", torch.norm(new_nn_light.features[0].weight).item())
total_params_deep = "{:,}".format(sum(p.numel() for p in nn_deep.parameters()))
total_params_light = "{:,}".format(sum(p.numel() for p in nn_light.parameters()))
print(f"DeepNN parameters: {total_params_deep}", f"LightNN parameters: {total_params_light}")
train(nn_light, train_loader, epochs=3, learning_rate=0.01, device=device)
test_accuracy_light_ce = test(nn_light, test_loader, device)

torch.manual_seed(42)
modified_nn_light_reg = ModifiedLightNNRegressor(num_classes=num_classes).to(device)
report = modified_nn_light_reg.load_state_dict(new_nn_light.state_dict(), strict=False)
load_report = [sorted(report.missing_keys), sorted(report.unexpected_keys)]
modified_nn_deep_reg = ModifiedDeepNNRegressor(num_classes=num_classes).to(device)
modified_nn_deep_reg.load_state_dict(nn_deep.state_dict())
teacher_map_shape = tuple(modified_nn_deep_reg(torch.zeros(1, 3, 8, 8))[1].shape)
teacher_before = modified_nn_deep_reg.features[0].weight.detach().clone()
mse_losses = train_mse_loss(teacher=modified_nn_deep_reg, student=modified_nn_light_reg, train_loader=train_loader,
                            epochs=3, learning_rate=0.01, feature_map_weight=0.25,
                            ce_loss_weight=0.75, device=device)  # fmt: skip
teacher_unchanged = torch.equal(teacher_before, modified_nn_deep_reg.features[0].weight)
teacher_grads = [p.grad is None for p in modified_nn_deep_reg.features.parameters()]
test_accuracy_light_ce_and_mse_loss = test(modified_nn_light_reg, test_loader, device)
accuracies = [test_accuracy_deep, test_accuracy_light_ce, test_accuracy_light_ce_and_mse_loss]
