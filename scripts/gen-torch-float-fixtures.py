#!/usr/bin/python3
"""Fixed-input torch references for the float engine parity test (test/parity/float-torch.test.ts).

Writes <out>/manifest.json and <out>/data.bin (little-endian float32, tensors concatenated). Every
case stores its inputs, an upstream gradient `dy`, and torch's outputs and gradients (float32 CPU,
torch 1.13 from Debian's python3-torch; run with /usr/bin/python3, never a pip torch).

Usage: /usr/bin/python3 scripts/gen-torch-float-fixtures.py test/.generated/float-torch
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_num_threads(2)

out_dir = sys.argv[1] if len(sys.argv) > 1 else "test/.generated/float-torch"
os.makedirs(out_dir, exist_ok=True)
blob = bytearray()
cases = []


def put(t):
    global blob
    t = t.detach().to(torch.float32).contiguous()
    off = len(blob) // 4
    blob += t.numpy().tobytes()
    return {"shape": list(t.shape), "offset": off, "length": t.numel()}


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def conv_case(name, x_shape, w_shape, bias, stride, padding, dilation, groups):
    x = leaf(*x_shape)
    w = leaf(*w_shape, scale=0.3)
    b = leaf(w_shape[0]) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    dy = torch.randn_like(y)
    y.backward(dy)
    t = {"x": put(x), "w": put(w), "y": put(y), "dy": put(dy), "dx": put(x.grad), "dw": put(w.grad)}
    if bias:
        t["b"] = put(b)
        t["db"] = put(b.grad)
    cases.append({"name": name, "op": "conv2d",
                  "params": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups, "bias": bias},
                  "tensors": t})


conv_case("conv 3x3 pad1 bias", (4, 3, 9, 9), (8, 3, 3, 3), True, 1, 1, 1, 1)
conv_case("conv stride2 odd", (2, 5, 11, 7), (6, 5, 3, 3), False, 2, 1, 1, 1)
conv_case("conv dilation2", (2, 4, 10, 10), (4, 4, 3, 3), True, 1, 2, 2, 1)
conv_case("conv groups2", (3, 6, 8, 8), (4, 3, 3, 3), True, 1, 1, 1, 2)
conv_case("conv depthwise stride2", (2, 8, 9, 9), (8, 1, 3, 3), False, 2, 1, 1, 8)
conv_case("conv 1x1 stride2", (2, 16, 8, 8), (32, 16, 1, 1), False, 2, 0, 1, 1)
conv_case("conv 7x7 stride2 pad3 (stem)", (2, 3, 32, 32), (16, 3, 7, 7), False, 2, 3, 1, 1)


def bn_case(name, shape, training, momentum):
    c = shape[1]
    x = leaf(*shape, scale=2.0)
    with torch.no_grad():
        x += torch.arange(c, dtype=torch.float32).view(1, c, 1, 1)  # per-channel offsets
    g = (torch.rand(c) + 0.5).requires_grad_(True)
    b = torch.randn(c).requires_grad_(True)
    rm = torch.randn(c) * 0.1
    rv = torch.rand(c) + 0.5
    rm0, rv0 = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm, rv, g, b, training=training, momentum=momentum, eps=1e-5)
    dy = torch.randn_like(y)
    y.backward(dy)
    cases.append({"name": name, "op": "batchnorm2d", "params": {"training": training, "momentum": momentum, "eps": 1e-5},
                  "tensors": {"x": put(x), "weight": put(g), "bias": put(b), "runningMean": put(rm0),
                              "runningVar": put(rv0), "y": put(y), "dy": put(dy), "dx": put(x.grad),
                              "dweight": put(g.grad), "dbias": put(b.grad), "runningMeanAfter": put(rm),
                              "runningVarAfter": put(rv)}})


bn_case("bn train", (8, 4, 5, 5), True, 0.1)
bn_case("bn train momentum 0.3 odd", (3, 5, 3, 7), True, 0.3)
bn_case("bn eval", (4, 3, 4, 4), False, 0.1)


def ce_case(name, n, c, ls, reduction):
    z = leaf(n, c, scale=3.0)
    y = torch.randint(0, c, (n,))
    loss = F.cross_entropy(z, y, label_smoothing=ls, reduction=reduction)
    dy = torch.randn_like(loss)
    loss.backward(dy)
    cases.append({"name": name, "op": "crossEntropy", "params": {"labelSmoothing": ls, "reduction": reduction},
                  "tensors": {"logits": put(z), "target": put(y.to(torch.float32)), "y": put(loss), "dy": put(dy),
                              "dlogits": put(z.grad)}})


ce_case("ce plain", 16, 10, 0.0, "mean")
ce_case("ce label smoothing 0.1", 16, 10, 0.1, "mean")
ce_case("ce ls 0.2 sum", 7, 5, 0.2, "sum")
ce_case("ce none", 9, 1000, 0.1, "none")


def lin_case(name, n, fin, fout):
    x = leaf(n, fin)
    w = leaf(fout, fin, scale=0.2)
    b = leaf(fout)
    y = F.linear(x, w, b)
    dy = torch.randn_like(y)
    y.backward(dy)
    cases.append({"name": name, "op": "linear", "params": {},
                  "tensors": {"x": put(x), "w": put(w), "b": put(b), "y": put(y), "dy": put(dy), "dx": put(x.grad),
                              "dw": put(w.grad), "db": put(b.grad)}})


lin_case("linear 64->10", 13, 64, 10)


def pool_case(name, op, kernel, stride, padding, count_include_pad=True):
    x = leaf(2, 3, 9, 8)
    if op == "maxPool2d":
        y = F.max_pool2d(x, kernel, stride, padding)
    else:
        y = F.avg_pool2d(x, kernel, stride, padding, count_include_pad=count_include_pad)
    dy = torch.randn_like(y)
    y.backward(dy)
    cases.append({"name": name, "op": op,
                  "params": {"kernel": kernel, "stride": stride, "padding": padding, "countIncludePad": count_include_pad},
                  "tensors": {"x": put(x), "y": put(y), "dy": put(dy), "dx": put(x.grad)}})


pool_case("maxpool 3/2/1", "maxPool2d", 3, 2, 1)
pool_case("avgpool 3/2/1", "avgPool2d", 3, 2, 1)
pool_case("avgpool 2/2/1 exclude pad", "avgPool2d", 2, 2, 1, False)



# ---- one resnet20 training run of two SGD steps (Nesterov, weight decay, label smoothing) -----------
# The same architecture as ts/nn/models/resnet20.ts, written here independently with torch modules.
class Normalize(torch.nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class Block(torch.nn.Module):
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
    def __init__(self, num_classes=10):
        super().__init__()
        self.normalize = Normalize([0.5, 0.4, 0.3], [0.25, 0.2, 0.3])
        self.conv1 = torch.nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(16)
        self.layer1 = torch.nn.Sequential(Block(16, 16, 1), Block(16, 16, 1), Block(16, 16, 1))
        self.layer2 = torch.nn.Sequential(Block(16, 32, 2), Block(32, 32, 1), Block(32, 32, 1))
        self.layer3 = torch.nn.Sequential(Block(32, 64, 2), Block(64, 64, 1), Block(64, 64, 1))
        self.fc = torch.nn.Linear(64, num_classes)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(self.normalize(x))))
        h = self.layer3(self.layer2(self.layer1(h)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


model = ResNet20()
with torch.no_grad():  # non-trivial BN affine parameters and running statistics
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
model.train()
rx = torch.rand(8, 3, 32, 32)
ry = torch.randint(0, 10, (8,))
sgd_cfg = {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4, "label_smoothing": 0.1, "steps": 2}
state0 = {k: put(v.to(torch.float32)) for k, v in model.state_dict().items()}
opt = torch.optim.SGD(model.parameters(), lr=sgd_cfg["lr"], momentum=sgd_cfg["momentum"],
                      nesterov=sgd_cfg["nesterov"], weight_decay=sgd_cfg["weight_decay"])
losses, logits0, grads0 = [], None, None
for step in range(sgd_cfg["steps"]):
    opt.zero_grad()
    out = model(rx)
    loss = F.cross_entropy(out, ry, label_smoothing=sgd_cfg["label_smoothing"])
    loss.backward()
    losses.append(float(loss))
    if step == 0:
        logits0 = put(out)
        grads0 = {k: put(p.grad) for k, p in model.named_parameters()}
    opt.step()
state1 = {k: put(v.to(torch.float32)) for k, v in model.state_dict().items()}
resnet_case = {"name": "resnet20 two SGD steps", "op": "resnet20-sgd", "params": dict(sgd_cfg, losses=losses),
               "tensors": {"x": put(rx), "target": put(ry.to(torch.float32)), "logits0": logits0},
               "state0": state0, "grads0": grads0, "state1": state1}
cases.append(resnet_case)

# ---- torchvision resnet18: state-dict names and shapes, and eval-mode logits at 64x64 -------------------
try:
    import torchvision

    tv = torchvision.models.resnet18(weights=None, num_classes=10)
    with torch.no_grad():
        for m in tv.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    tv.eval()
    tx = torch.rand(2, 3, 64, 64)
    tmean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    tstd = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        tlogits = tv((tx - tmean) / tstd)
    cases.append({"name": "torchvision resnet18 eval logits", "op": "resnet18-eval",
                  "params": {"torchvision": torchvision.__version__},
                  "tensors": {"x": put(tx), "logits": put(tlogits)},
                  "state0": {k: put(v.to(torch.float32)) for k, v in tv.state_dict().items()}})
except ImportError:
    pass  # python3-torchvision absent: the test says so

with open(os.path.join(out_dir, "data.bin"), "wb") as f:
    f.write(bytes(blob))
with open(os.path.join(out_dir, "manifest.json"), "w") as f:
    json.dump({"generator": "scripts/gen-torch-float-fixtures.py", "torch": torch.__version__, "seed": 1234,
               "cases": cases}, f, indent=1)
print(f"wrote {len(cases)} cases, {len(blob)} bytes to {out_dir} (torch {torch.__version__})")
