"""The neural style transfer tutorial (Gatys et al.), as written for PyTorch, with a small fixed
random CNN in place of VGG-19 and synthetic 16x16 images: content and style losses as
transparent modules inserted into a rebuilt nn.Sequential, Gram matrices, the input image
optimised by LBFGS with a closure that clamps it under no_grad. A second pass collects the same
features with forward hooks and checks that both give the same losses."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.set_default_device(device)

imsize = 16


def image_loader(kind):
    """Content: a bright disc; style: diagonal colour stripes. Shape (1, 3, imsize, imsize)."""
    yy, xx = torch.meshgrid(
        torch.linspace(-1, 1, imsize), torch.linspace(-1, 1, imsize), indexing="ij"
    )
    if kind == "content":
        disc = ((yy**2 + xx**2) < 0.4).float()
        image = torch.stack([disc, 0.5 * disc, 1 - disc])
    else:
        phase = (xx + yy) * 6.0
        image = torch.stack([torch.sin(phase), torch.cos(phase), torch.sin(2 * phase)]) * 0.5 + 0.5
    return image.unsqueeze(0).to(device, torch.float)


style_img = image_loader("style")
content_img = image_loader("content")
assert style_img.size() == content_img.size(), (
    "we need to import style and content images of the same size"
)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super(ContentLoss, self).__init__()
        # we 'detach' the target content from the tree used to dynamically compute the gradient
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()  # a=batch size(=1), b=number of feature maps, (c,d)=dimensions
    features = input.view(a * b, c * d)  # resize F_XL into \hat F_XL
    G = torch.mm(features, features.t())  # compute the gram product
    # 'normalize' the values of the gram matrix by dividing by the number of element
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super(StyleLoss, self).__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


# A stand-in for ``models.vgg19(weights=...).features.eval()``: fixed random conv layers
cnn = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1),
    nn.ReLU(inplace=True),
    nn.Conv2d(16, 16, 3, padding=1),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(2, 2),
    nn.Conv2d(16, 32, 3, padding=1),
    nn.ReLU(inplace=True),
    nn.Conv2d(32, 32, 3, padding=1),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(2, 2),
    nn.Conv2d(32, 32, 3, padding=1),
    nn.ReLU(inplace=True),
).eval()

cnn_normalization_mean = torch.tensor([0.485, 0.456, 0.406])
cnn_normalization_std = torch.tensor([0.229, 0.224, 0.225])


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super(Normalization, self).__init__()
        # .view the mean and std to make them [C x 1 x 1] so that they can directly work with
        # image Tensor of shape [B x C x H x W].
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


content_layers_default = ["conv_4"]
style_layers_default = ["conv_1", "conv_2", "conv_3", "conv_4", "conv_5"]


def get_style_model_and_losses(
    cnn,
    normalization_mean,
    normalization_std,
    style_img,
    content_img,
    content_layers=content_layers_default,
    style_layers=style_layers_default,
):
    normalization = Normalization(normalization_mean, normalization_std)
    content_losses = []
    style_losses = []
    model = nn.Sequential(normalization)

    i = 0  # increment every time we see a conv
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = "conv_{}".format(i)
        elif isinstance(layer, nn.ReLU):
            name = "relu_{}".format(i)
            # The in-place version doesn't play very nicely with the ``ContentLoss``
            # and ``StyleLoss`` we insert below. So we replace with out-of-place ones here.
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = "pool_{}".format(i)
        elif isinstance(layer, nn.BatchNorm2d):
            name = "bn_{}".format(i)
        else:
            raise RuntimeError("Unrecognized layer: {}".format(layer.__class__.__name__))

        model.add_module(name, layer)

        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module("content_loss_{}".format(i), content_loss)
            content_losses.append(content_loss)

        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module("style_loss_{}".format(i), style_loss)
            style_losses.append(style_loss)

    # now we trim off the layers after the last content and style losses
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break

    model = model[: (i + 1)]

    return model, style_losses, content_losses


input_img = content_img.clone()


def get_input_optimizer(input_img):
    # this line to show that input is a parameter that requires a gradient
    optimizer = optim.LBFGS([input_img])
    return optimizer


history = []


def run_style_transfer(
    cnn,
    normalization_mean,
    normalization_std,
    content_img,
    style_img,
    input_img,
    num_steps=60,
    style_weight=100000,
    content_weight=1,
):
    """Run the style transfer."""
    print("Building the style transfer model..")
    model, style_losses, content_losses = get_style_model_and_losses(
        cnn, normalization_mean, normalization_std, style_img, content_img
    )

    # We want to optimize the input and not the model parameters so we
    # update all the requires_grad fields accordingly
    input_img.requires_grad_(True)
    # We also put the model in evaluation mode, so that specific layers
    # such as dropout or batch normalization layers behave correctly.
    model.eval()
    model.requires_grad_(False)

    optimizer = get_input_optimizer(input_img)

    print("Optimizing..")
    run = [0]
    while run[0] <= num_steps:

        def closure():
            # correct the values of updated input image
            with torch.no_grad():
                input_img.clamp_(0, 1)

            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0

            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss

            style_score *= style_weight
            content_score *= content_weight

            loss = style_score + content_score
            loss.backward()

            run[0] += 1
            history.append((style_score.item(), content_score.item()))
            if run[0] % 20 == 0:
                print("run {}:".format(run))
                print(
                    "Style Loss : {:4f} Content Loss: {:4f}".format(
                        style_score.item(), content_score.item()
                    )
                )
                print()

            return style_score + content_score

        optimizer.step(closure)

    # a last correction...
    with torch.no_grad():
        input_img.clamp_(0, 1)

    return input_img, model, style_losses, content_losses


# Two LBFGS steps (40 closure calls). With the clamp in the closure the optimisation turns
# chaotic after about 25 calls: PyTorch and minigrad agree to 2% up to call 24, then float32
# rounding (AVX2 vs AVX-512 kernels) decides where the iterate bounces back out of the minimum
# (on an AVX2 CPU, PyTorch's calls 48-72 went up to 69, minigrad's 70-79 up to 98 of 429).
output, style_model, style_losses, content_losses = run_style_transfer(
    cnn, cnn_normalization_mean, cnn_normalization_std, content_img, style_img, input_img, 20
)

# The same losses from forward hooks on a copy of the original CNN (no rebuilt Sequential)
features = {}
hooked = copy.deepcopy(cnn)
for m in hooked.modules():
    if isinstance(m, nn.ReLU):
        m.inplace = False
handles = []
conv_index = 0
for name, module in hooked.named_children():
    if isinstance(module, nn.Conv2d):
        conv_index += 1

        def hook(module, inputs, output, key="conv_{}".format(conv_index)):
            features[key] = output

        handles.append(module.register_forward_hook(hook))
normalize = Normalization(cnn_normalization_mean, cnn_normalization_std)
with torch.no_grad():
    hooked(normalize(style_img))
    style_targets = {k: gram_matrix(v) for k, v in features.items()}
    hooked(normalize(content_img))
    content_target = features["conv_4"]
    hooked(normalize(output))
    hook_style = sum(F.mse_loss(gram_matrix(features[k]), style_targets[k]) for k in style_targets)
    hook_content = F.mse_loss(features["conv_4"], content_target)
    style_model(output)
    seq_style = sum(sl.loss for sl in style_losses)
    seq_content = content_losses[0].loss
for h in handles:
    h.remove()
print(f"hook check: style {hook_style.item():.6g} vs {seq_style.item():.6g}")
torch.set_default_device("cpu")
