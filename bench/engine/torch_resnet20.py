"""resnet20 (option-B shortcuts, normalisation first) in torch, with ts/nn/models/resnet20.ts's names.

Used by bench/engine/train_step_torch.py. Run with Debian's /usr/bin/python3 (python3-torch 1.13).
"""
import torch
import torch.nn.functional as F


class Normalize(torch.nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class BasicBlock(torch.nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(planes)
        self.conv2 = torch.nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inp != planes:
            self.downsample = torch.nn.Sequential(torch.nn.Conv2d(inp, planes, 1, stride, bias=False),
                                                  torch.nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ResNet20(torch.nn.Module):
    def __init__(self, num_classes=10, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)):
        super().__init__()
        self.normalize = Normalize(list(mean), list(std))
        self.conv1 = torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(16)

        def stage(inp, planes, stride):
            return torch.nn.Sequential(BasicBlock(inp, planes, stride), BasicBlock(planes, planes, 1),
                                       BasicBlock(planes, planes, 1))

        self.layer1 = stage(16, 16, 1)
        self.layer2 = stage(16, 32, 2)
        self.layer3 = stage(32, 64, 2)
        self.fc = torch.nn.Linear(64, num_classes)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(self.normalize(x))))
        h = self.layer3(self.layer2(self.layer1(h)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))
