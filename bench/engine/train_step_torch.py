#!/usr/bin/python3
"""PyTorch side of bench/engine/train-step.ts: resnet20 or resnet18 training steps (forward,
label-smoothed cross-entropy, backward, SGD Nesterov) on CPU with a given thread count.

Usage: /usr/bin/python3 bench/engine/train_step_torch.py <dir> <threads> <batch> <warmup> <repeats> [<arch> <size>]
<arch>: resnet20 (default; torch_resnet20.py) or resnet18 (torchvision's, with our `normalize` first).
<dir> holds state.json/state.bin (our initial weights) and batch.bin (x then labels as float32),
written by train-step.ts. Prints one JSON line: first loss (validation), per-step wall seconds and
per-step process CPU seconds (all threads).
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ beside the bench in the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_resnet20 import Normalize, ResNet20  # noqa: E402

d, threads, batch, warmup, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
arch = sys.argv[6] if len(sys.argv) > 6 else "resnet20"
size = int(sys.argv[7]) if len(sys.argv) > 7 else 32
torch.set_num_threads(threads)
meta = json.load(open(os.path.join(d, "state.json")))
blob = np.fromfile(os.path.join(d, "state.bin"), dtype=np.float32)


def resnet18(num_classes):
    import torchvision

    class ResNet18(torchvision.models.resnet.ResNet):
        """torchvision's resnet18 with ts/nn's `normalize` layer first (same state-dict names)."""

        def __init__(self):
            super().__init__(torchvision.models.resnet.BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
            self.normalize = Normalize([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])

        def forward(self, x):
            return super().forward(self.normalize(x))

    return ResNet18()


model = ResNet20() if arch == "resnet20" else resnet18(10)
sd = model.state_dict()
missing = set(sd) - set(meta["entries"])
if missing:
    raise SystemExit(f"train_step_torch.py: our state dict lacks {sorted(missing)[:5]}")
for k, (off, n, shape) in meta["entries"].items():
    sd[k].copy_(torch.from_numpy(blob[off:off + n].reshape(shape)).reshape(sd[k].shape).to(sd[k].dtype))
model.load_state_dict(sd)
model.train()
xb = np.fromfile(os.path.join(d, "batch.bin"), dtype=np.float32)
x = torch.from_numpy(xb[: batch * 3 * size * size].reshape(batch, 3, size, size).copy())
y = torch.from_numpy(xb[batch * 3 * size * size:].astype(np.int64))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)


def step():
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
    loss.backward()
    opt.step()
    return float(loss)


first = step()
for _ in range(warmup):
    step()
times, cpu = [], []
for _ in range(repeats):
    t0, c0 = time.perf_counter(), time.process_time()
    step()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)  # all threads of the process
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "first_loss": first, "seconds": times,
                  "cpu_seconds": cpu}))
