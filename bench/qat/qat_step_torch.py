#!/usr/bin/python3
"""Torch side of the QAT parity test (test/parity/quant-torch.test.ts) and of the QAT step benchmark
(bench/qat/qat-step.ts), on resnet20 with the fake-quant of torch_qat.py.

Usage:
  qat_step_torch.py ops <dir>                                      op-level parity: fake-quant / LSQ / PACT
  qat_step_torch.py step <dir> <method> <bits>                     one QAT step from our state, outputs written
  qat_step_torch.py bench <dir> <method> <bits> <threads> <batch> <warmup> <repeats>   timing
<dir> holds what the TS side wrote: state.json + state.bin (our state dict: name -> [offset, count, shape]),
batch.bin (x then labels, float32), ops.bin (ops mode). Results: out.json (+ out.bin), or one JSON line (bench).
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "engine"))
from torch_qat import prepare  # noqa: E402
from torch_resnet20 import ResNet20  # noqa: E402


class Out:
    """Float32 arrays concatenated into out.bin, indexed by name in out.json's `entries`."""

    def __init__(self):
        self.parts, self.entries, self.off = [], {}, 0

    def put(self, key, t):
        arr = t.detach().contiguous().numpy().astype(np.float32).ravel()
        self.entries[key] = [self.off, int(arr.size)]
        self.parts.append(arr)
        self.off += arr.size

    def write(self, d, **fields):
        np.concatenate(self.parts).tofile(os.path.join(d, "out.bin"))
        json.dump({"torch": torch.__version__, "entries": self.entries, **fields}, open(os.path.join(d, "out.json"), "w"))


def load_state(d):
    meta = json.load(open(os.path.join(d, "state.json")))
    blob = np.fromfile(os.path.join(d, "state.bin"), dtype=np.float32)
    return {k: torch.from_numpy(blob[o:o + n].reshape(shape).copy()) for k, (o, n, shape) in meta["entries"].items()}, meta


def build(d, method, bits, batch, size=32):
    state, meta = load_state(d)
    model = ResNet20(num_classes=meta["classes"], mean=state["normalize.mean"].flatten().tolist(), std=state["normalize.std"].flatten().tolist())
    sd = model.state_dict()
    for k in sd:
        if k not in state:
            raise SystemExit(f"qat_step_torch.py: our state dict lacks {k}")
        sd[k].copy_(state[k].reshape(sd[k].shape).to(sd[k].dtype))
    model.load_state_dict(sd)
    layers = prepare(model, method, bits, state)
    xb = np.fromfile(os.path.join(d, "batch.bin"), dtype=np.float32)
    n = batch * 3 * size * size
    x = torch.from_numpy(xb[:n].reshape(batch, 3, size, size).copy())
    y = torch.from_numpy(xb[n:n + batch].astype(np.int64))
    return model, layers, x, y, meta


def step_mode(d, method, bits):
    meta = json.load(open(os.path.join(d, "state.json")))
    torch.set_num_threads(int(meta.get("threads", 1)))
    model, layers, x, y, meta = build(d, method, bits, meta["batch"], meta.get("size", 32))
    model.train()
    params = dict(model.named_parameters())
    opt = torch.optim.SGD(params.values(), lr=meta["lr"], momentum=0.9, nesterov=True, weight_decay=1e-4)
    logits = model(x)
    loss = F.cross_entropy(logits, y, label_smoothing=0.1)
    opt.zero_grad()
    loss.backward()
    scales = [[m.input_fake_quant.last_scale if m.input_fake_quant.kind != "lsq" else float(m.input_fake_quant.scale.detach()[0]),
               m.weight_fake_quant.last_scale if m.weight_fake_quant.kind != "lsq" else float(m.weight_fake_quant.scale.detach()[0]),
               1 if m.input_fake_quant.signed else 0] for _, m in layers]
    grads = {k: p.grad.detach().clone() for k, p in params.items() if p.grad is not None}
    opt.step()
    loss2 = float(F.cross_entropy(model(x), y, label_smoothing=0.1))
    out = Out()
    put = out.put

    put("logits", logits)
    for k, g in grads.items():
        put(f"grad:{k}", g)
    for k, p in params.items():
        put(f"param:{k}", p)
    out.write(d, loss=float(loss), loss2=loss2, scales=scales)


def ops_mode(d):
    """x (n values), then for the LSQ / PACT cases: upstream gradient g (n values)."""
    meta = json.load(open(os.path.join(d, "ops.json")))
    a = np.fromfile(os.path.join(d, "ops.bin"), dtype=np.float32)
    n = meta["n"]
    x0 = torch.from_numpy(a[:n].copy())
    g = torch.from_numpy(a[n:2 * n].copy())
    res = {}
    out = Out()
    put = out.put

    for i, c in enumerate(meta["cases"]):
        x = x0.clone().requires_grad_(True)
        if c["op"] == "fq":
            y = torch.fake_quantize_per_tensor_affine(x, c["scale"], 0, c["qmin"], c["qmax"])
            (y * g).sum().backward()
            put(f"{i}:y", y)
            put(f"{i}:gx", x.grad)
        elif c["op"] == "lsq":
            s = torch.tensor([c["scale"]], requires_grad=True)
            y = torch._fake_quantize_learnable_per_tensor_affine(x, s, torch.zeros(1), c["qmin"], c["qmax"], c["g"])
            (y * g).sum().backward()
            put(f"{i}:y", y)
            put(f"{i}:gx", x.grad)
            put(f"{i}:gs", s.grad)
        elif c["op"] == "pact":
            al = torch.tensor([float(c["alpha"])], requires_grad=True)
            xc = torch.where(x > al, al, x)
            if float(xc.min()) < 0 and c["low"]:
                xc = torch.where(xc < -al, -al, xc)
            y = torch.fake_quantize_per_tensor_affine(xc, c["scale"], 0, c["qmin"], c["qmax"])
            (y * g).sum().backward()
            put(f"{i}:y", y)
            put(f"{i}:gx", x.grad)
            put(f"{i}:ga", al.grad)
        elif c["op"] == "dorefa-weight":
            t = torch.tanh(x)
            wn = t / (t.abs().max() + 1e-5)
            from torch_qat import minmax_scale
            qmin, qmax = c["qmin"], c["qmax"]
            s = minmax_scale(wn.detach().min(), wn.detach().max(), qmin, qmax, False)
            y = torch.fake_quantize_per_tensor_affine(wn, float(s), 0, qmin, qmax)
            (y * g).sum().backward()
            res[f"{i}:scale"] = float(s)
            put(f"{i}:y", y)
            put(f"{i}:gx", x.grad)
    out.write(d, values=res)


def layer_mode(d):
    """One quantized conv / linear on given inputs: y = op(iq(x), wq(w)); upstream gradient g."""
    from torch_qat import FakeQuant
    meta = json.load(open(os.path.join(d, "layer.json")))
    a = np.fromfile(os.path.join(d, "layer.bin"), dtype=np.float32)
    out = Out()
    put = out.put

    scales = {}
    for i, c in enumerate(meta["cases"]):
        o = c["offset"]
        def take(shape):
            nonlocal o
            n = int(np.prod(shape))
            t = torch.from_numpy(a[o:o + n].reshape(shape).copy())
            o += n
            return t
        x = take(c["x"]).requires_grad_(True)
        w = take(c["w"]).requires_grad_(True)
        g = take(c["y"])
        iq = FakeQuant(c["method"], c["bits"], "input", True)  # starts signed; the batch decides (ada_sign)
        wq = FakeQuant(c["method"], c["bits"], "weight")
        iq.train()
        wq.train()
        if c["kind"] == "conv":
            y = F.conv2d(iq(x), wq(w), None, c["stride"], c["padding"], 1, c["groups"])
        else:
            y = F.linear(iq(x), wq(w))
        (y * g).sum().backward()
        put(f"{i}:y", y)
        put(f"{i}:gx", x.grad)
        put(f"{i}:gw", w.grad)
        if iq.kind == "pact":
            put(f"{i}:galpha", iq.alpha.grad)
        if iq.kind == "lsq":
            put(f"{i}:gsi", iq.scale.grad)
            put(f"{i}:gsw", wq.scale.grad)
        scales[i] = [float(iq.scale.detach()[0]) if iq.kind == "lsq" else iq.last_scale,
                     float(wq.scale.detach()[0]) if wq.kind == "lsq" else wq.last_scale, 1 if iq.signed else 0]
    out.write(d, scales=scales)


def bench_mode(d, method, bits, threads, batch, warmup, repeats):
    torch.set_num_threads(threads)
    model, layers, x, y, meta = build(d, method, bits, batch)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=4e-3, momentum=0.9, nesterov=True, weight_decay=1e-4)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()
        return float(loss)

    first = step()
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "first_loss": first, "seconds": times}))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ops":
        ops_mode(sys.argv[2])
    elif mode == "layer":
        layer_mode(sys.argv[2])
    elif mode == "step":
        step_mode(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif mode == "bench":
        bench_mode(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]))
    else:
        raise SystemExit(f"unknown mode {mode}: ops, step or bench")
