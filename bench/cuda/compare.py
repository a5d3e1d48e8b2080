"""Joins qrb_cuda_bench and peer_torch.py output (key=value lines) into ratio tables (ours / peer: > 1 means ours
is faster). Usage: python3 compare.py ours.txt torch.txt > summary.md"""
import shlex
import sys


def parse(path):
    rows = []
    for line in open(path):
        try:
            parts = shlex.split(line)
        except ValueError:
            continue
        if not parts or "=" in parts[0]:
            continue
        kv = {}
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                kv[k] = v
        rows.append((parts[0], kv))
    return rows


ours, peer = parse(sys.argv[1]), parse(sys.argv[2])
dev = next((kv for k, kv in ours if k == "device"), {})
pdev = next((kv for k, kv in peer if k == "peer"), {})
print(f"device: {dev.get('name', '?')} (sm_{dev.get('cc', '?').replace('.', '')}); peer torch {pdev.get('torch', '?')}, "
      f"CUDA {pdev.get('cuda', '?')}, cuDNN {pdev.get('cudnn', '?')}\n")
print("| int8 GEMM m x n x k | ours int32 out TOPS (auto tile) | torch._int_mm TOPS | ratio | ours trt-gpu int8 out TOPS | tile 128 / 256 TOPS |")
print("|---|---|---|---|---|---|")
tm = {(kv["m"], kv["n"], kv["k"]): kv for k, kv in peer if k == "torch_int_mm"}
for k, kv in ours:
    if k != "int8_gemm":
        continue
    key = (kv["m"], kv["n"], kv["k"])
    p = tm.get(key)
    ratio = f"{float(kv['acc32_tops']) / float(p['tops']):.2f}" if p else "-"
    print(f"| {'x'.join(key)} | {kv['acc32_tops']} | {p['tops'] if p else '-'} | {ratio} | {kv['trt8_tops']} | "
          f"{kv.get('tile128_tops', '-')} / {kv.get('tile256_tops', '-')} |")
print()
print("| resnet18 conv layer (batch, x count) | ours fwd / bwd-data / bwd-weights ms | cuDNN fp32 ms | cuDNN TF32 ms | ratio vs fp32 |")
print("|---|---|---|---|---|")
t32 = {kv["layer"]: kv for k, kv in peer if k == "torch_conv" and kv.get("tf32") == "0"}
t19 = {kv["layer"]: kv for k, kv in peer if k == "torch_conv" and kv.get("tf32") == "1"}
fmt = lambda kv: f"{float(kv['fwd_ms']):.3f} / {float(kv['bwd_data_ms']):.3f} / {float(kv['bwd_weights_ms']):.3f}"
for k, kv in ours:
    if k != "f32_conv":
        continue
    a, b = t32.get(kv["layer"]), t19.get(kv["layer"])
    ratio = f"{float(a['step_ms']) / float(kv['step_ms']):.2f}" if a else "-"
    print(f"| {kv['layer']} ({kv['batch']}, x{kv['count']}) | {fmt(kv)} | {fmt(a) if a else '-'} | {fmt(b) if b else '-'} | {ratio} |")
ot = next((kv for k, kv in ours if k == "f32_conv_total"), None)
pt = {kv.get("tf32"): kv for k, kv in peer if k == "torch_conv_total"}
if ot and "0" in pt:
    print(f"\nconv part of a resnet18 training step (all conv layers, fwd + bwd): ours {float(ot['step_ms']):.2f} ms, "
          f"cuDNN fp32 {float(pt['0']['step_ms']):.2f} ms (ratio {float(pt['0']['step_ms']) / float(ot['step_ms']):.2f}), "
          f"cuDNN TF32 {float(pt['1']['step_ms']):.2f} ms (ratio {float(pt['1']['step_ms']) / float(ot['step_ms']):.2f})")
rs = next((kv for k, kv in peer if k == "torch_resnet18_step"), None)
if rs and "ms" in rs:
    print(f"torch resnet18 full fp32 training step at batch {rs['batch']}: {float(rs['ms']):.2f} ms ({rs['img_per_s']} images/s)")
