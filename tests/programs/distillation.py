"""The knowledge distillation tutorial (Hinton et al. 2015), as written for PyTorch, on a small
synthetic classification task: train a teacher, then students with soft targets
(F.kl_div of temperature-scaled log_softmax and softmax, "batchmean", times T^2), with the
tutorial's hand-written form of the same loss, and with a cosine loss on hidden representations
(CosineEmbeddingLoss after avg_pool1d)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"

n_features, n_classes = 20, 5


def make_data(n, centers):
    """Gaussian blobs around fixed centres, pushed through a fixed nonlinearity."""
    y = torch.randint(0, n_classes, (n,))
    x = centers[y] + 1.2 * torch.randn(n, n_features)
    return torch.tanh(x), y


centers = 1.0 * torch.randn(n_classes, n_features)
train_loader = DataLoader(TensorDataset(*make_data(1024, centers)), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(*make_data(512, centers)), batch_size=128, shuffle=False)


class DeepNN(nn.Module):
    def __init__(self, num_classes=n_classes):
        super(DeepNN, self).__init__()
        self.features = nn.Sequential(
            nn.Linear(n_features, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU()
        )
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class LightNN(nn.Module):
    def __init__(self, num_classes=n_classes):
        super(LightNN, self).__init__()
        self.features = nn.Sequential(nn.Linear(n_features, 32), nn.ReLU())
        self.classifier = nn.Sequential(nn.Dropout(0.1), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class ModifiedDeepNNCosine(DeepNN):
    """The teacher also returns its hidden representation, pooled down to the student's width."""

    def forward(self, x):
        hidden = self.features(x)
        flattened_conv_output_after_pooling = F.avg_pool1d(hidden, 2)
        return self.classifier(hidden), flattened_conv_output_after_pooling


class ModifiedLightNNCosine(LightNN):
    def forward(self, x):
        hidden = self.features(x)
        return self.classifier(hidden), hidden


def train(model, train_loader, epochs, learning_rate, device):
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        print(f"Epoch {epoch + 1}/{epochs}, Loss: {running_loss / len(train_loader)}")


def test(model, test_loader, device):
    model.to(device)
    model.eval()
    correct = 0
    total = 0
    with torch.no_grad():
        for inputs, labels in test_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            if isinstance(outputs, tuple):
                outputs = outputs[0]
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    accuracy = 100 * correct / total
    print(f"Test Accuracy: {accuracy:.2f}%")
    return accuracy


def train_knowledge_distillation(
    teacher, student, train_loader, epochs, learning_rate, T, soft_target_loss_weight,
    ce_loss_weight, device,
):  # fmt: skip
    ce_loss = nn.CrossEntropyLoss()
    optimizer = optim.Adam(student.parameters(), lr=learning_rate)
    teacher.eval()  # Teacher set to evaluation mode
    student.train()  # Student to train mode
    gaps = []
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()

            # Forward pass with the teacher model - do not save gradients here as we do not
            # change the teacher's weights
            with torch.no_grad():
                teacher_logits = teacher(inputs)

            # Forward pass with the student model
            student_logits = student(inputs)

            soft_targets_loss = F.kl_div(
                F.log_softmax(student_logits / T, dim=-1),
                F.softmax(teacher_logits / T, dim=-1),
                reduction="batchmean",
            ) * (T * T)

            # The tutorial's own form: soften the outputs, then KL divergence by hand
            soft_targets = nn.functional.softmax(teacher_logits / T, dim=-1)
            soft_prob = nn.functional.log_softmax(student_logits / T, dim=-1)
            by_hand = (
                torch.sum(soft_targets * (soft_targets.log() - soft_prob))
                / soft_prob.size()[0]
                * (T**2)
            )
            with_log_target = nn.KLDivLoss(reduction="batchmean", log_target=True)(
                soft_prob, F.log_softmax(teacher_logits / T, dim=-1)
            ) * (T**2)
            gaps.append(
                max(
                    abs(by_hand.item() - soft_targets_loss.item()),
                    abs(with_log_target.item() - soft_targets_loss.item()),
                )
            )

            # Calculate the true label loss
            label_loss = ce_loss(student_logits, labels)

            # Weighted sum of the two losses
            loss = soft_target_loss_weight * soft_targets_loss + ce_loss_weight * label_loss

            loss.backward()
            optimizer.step()

            running_loss += loss.item()

        print(f"Epoch {epoch + 1}/{epochs}, Loss: {running_loss / len(train_loader)}")
    return gaps


def train_cosine_loss(
    teacher, student, train_loader, epochs, learning_rate, hidden_rep_loss_weight,
    ce_loss_weight, device,
):  # fmt: skip
    ce_loss = nn.CrossEntropyLoss()
    cosine_loss = nn.CosineEmbeddingLoss()
    optimizer = optim.Adam(student.parameters(), lr=learning_rate)

    teacher.to(device)
    student.to(device)
    teacher.eval()  # Teacher set to evaluation mode
    student.train()  # Student to train mode

    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)

            optimizer.zero_grad()

            # Forward pass with the teacher model and keep only the hidden representation
            with torch.no_grad():
                _, teacher_hidden_representation = teacher(inputs)

            # Forward pass with the student model
            student_logits, student_hidden_representation = student(inputs)

            # Calculate the cosine loss. Target is a vector of ones. From the loss formula
            # above we can see that is the case where loss minimization leads to cosine
            # similarity increase.
            hidden_rep_loss = cosine_loss(
                student_hidden_representation,
                teacher_hidden_representation,
                target=torch.ones(inputs.size(0)).to(device),
            )

            # Calculate the true label loss
            label_loss = ce_loss(student_logits, labels)

            # Weighted sum of the two losses
            loss = hidden_rep_loss_weight * hidden_rep_loss + ce_loss_weight * label_loss

            loss.backward()
            optimizer.step()

            running_loss += loss.item()

        print(f"Epoch {epoch + 1}/{epochs}, Loss: {running_loss / len(train_loader)}")


torch.manual_seed(42)
nn_deep = DeepNN(num_classes=n_classes).to(device)
train(nn_deep, train_loader, epochs=6, learning_rate=0.001, device=device)
test_accuracy_deep = test(nn_deep, test_loader, device)

# Instantiate the lightweight network:
torch.manual_seed(42)
nn_light = LightNN(num_classes=n_classes).to(device)
torch.manual_seed(42)
new_nn_light = LightNN(num_classes=n_classes).to(device)

# The two students start from the same weights
print("Norm of 1st layer of nn_light:", torch.norm(nn_light.features[0].weight).item())
print("Norm of 1st layer of new_nn_light:", torch.norm(new_nn_light.features[0].weight).item())

total_params_deep = "{:,}".format(sum(p.numel() for p in nn_deep.parameters()))
print(f"DeepNN parameters: {total_params_deep}")
total_params_light = "{:,}".format(sum(p.numel() for p in nn_light.parameters()))
print(f"LightNN parameters: {total_params_light}")

train(nn_light, train_loader, epochs=3, learning_rate=0.001, device=device)
test_accuracy_light_ce = test(nn_light, test_loader, device)

# Apply ``train_knowledge_distillation`` with a temperature of 2. Arbitrarily set the weights to
# 0.75 for CE and 0.25 for distillation loss.
kd_gaps = train_knowledge_distillation(
    teacher=nn_deep, student=new_nn_light, train_loader=train_loader, epochs=3,
    learning_rate=0.001, T=2, soft_target_loss_weight=0.25, ce_loss_weight=0.75, device=device,
)  # fmt: skip
test_accuracy_light_ce_and_kd = test(new_nn_light, test_loader, device)

# Cosine loss on the hidden representations: copy the trained teacher's weights over
modified_nn_deep = ModifiedDeepNNCosine(num_classes=n_classes).to(device)
modified_nn_deep.load_state_dict(nn_deep.state_dict())
torch.manual_seed(42)
modified_nn_light = ModifiedLightNNCosine(num_classes=n_classes).to(device)
train_cosine_loss(
    teacher=modified_nn_deep, student=modified_nn_light, train_loader=train_loader, epochs=3,
    learning_rate=0.001, hidden_rep_loss_weight=0.25, ce_loss_weight=0.75, device=device,
)  # fmt: skip
test_accuracy_light_ce_and_cosine_loss = test(modified_nn_light, test_loader, device)

print(f"Teacher accuracy: {test_accuracy_deep:.2f}%")
print(f"Student accuracy without teacher: {test_accuracy_light_ce:.2f}%")
print(f"Student accuracy with CE + KD: {test_accuracy_light_ce_and_kd:.2f}%")
print(f"Student accuracy with CE + CosineLoss: {test_accuracy_light_ce_and_cosine_loss:.2f}%")
