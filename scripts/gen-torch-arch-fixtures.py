#!/usr/bin/python3
"""Generates the architecture parity fixtures (never committed; test/.generated is gitignored).

Run with Debian's interpreter (python3-torch, python3-torchvision, python3-onnx; never pip):

    /usr/bin/python3 scripts/gen-torch-arch-fixtures.py [OUT_DIR]      # default test/.generated/torch-arch

For resnet18, mobilenet_v2, regnetx_600mf and resnet50 (torchvision; the RegNet as PROTOCOL.md §5 builds it:
RegNet(BlockParams([1,3,5,7], [48,96,240,528], [24]*4, [1.0]*4, [2]*4, None), stem_width=32)), 10 classes,
torch.manual_seed(SEED + index), torchvision's init, then non-trivial BN state: gamma U(0.5, 1.5), beta N(0, 0.1^2),
running_mean N(0, 0.1^2), running_var U(0.5, 2.0), num_batches_tracked 7. Eval mode. Writes
  <arch>.safetensors        the state_dict (torchvision names), written by gen-torch-fixtures.py's writer
  <arch>.io.safetensors     x [2,3,64,64] in [0,1]; xn = (x - mean) / std with ImageNet statistics; logits = model(xn)
  <arch>.onnx               (resnet18, mobilenet_v2) torch.onnx.export, opset 13, dynamic batch, input xn: BN folded
                            into the convolutions by the exporter's eval-mode passes
  <arch>.bn.onnx            (same two) exported with do_constant_folding=False and TrainingMode.PRESERVE so the
                            BatchNormalization nodes and torch's parameter names stay
and versions.json (tool versions + SCRIPT_VERSION), written last. Idempotent: when versions.json matches and every file
exists it does nothing. Prints one line saying what it did.
"""
import importlib.util
import json
import os
import sys
import time

SCRIPT_VERSION = 2
SEED = 1234
ARCHS = ("resnet18", "mobilenet_v2", "regnetx_600mf", "resnet50")
ONNX_ARCHS = ("resnet18", "mobilenet_v2")
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def load_writer():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("gen_torch_fixtures", os.path.join(here, "gen-torch-fixtures.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.write_safetensors


def build(arch, torch, torchvision):
    if arch == "regnetx_600mf":
        from torchvision.models.regnet import BlockParams, RegNet

        bp = BlockParams(depths=[1, 3, 5, 7], widths=[48, 96, 240, 528], group_widths=[24] * 4,
                         bottleneck_multipliers=[1.0] * 4, strides=[2] * 4, se_ratio=None)
        return RegNet(bp, num_classes=10, stem_width=32)
    return getattr(torchvision.models, arch)(weights=None, num_classes=10)


def randomize_bn(model, torch):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", ".generated", "torch-arch")
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    import onnx
    import torch
    import torchvision

    torch.set_num_threads(2)
    want = {"script": SCRIPT_VERSION, "seed": SEED, "python": sys.version.split()[0], "torch": torch.__version__,
            "torchvision": torchvision.__version__, "onnx": onnx.__version__}
    files = [f"{a}.{e}" for a in ARCHS for e in ("safetensors", "io.safetensors")]
    files += [f"{a}.{e}" for a in ONNX_ARCHS for e in ("onnx", "bn.onnx")]
    vpath = os.path.join(out_dir, "versions.json")
    if all(os.path.exists(os.path.join(out_dir, f)) for f in files) and os.path.exists(vpath):
        try:
            with open(vpath) as f:
                if json.load(f) == want:
                    print(f"gen-torch-arch-fixtures: up to date in {out_dir}")
                    return
        except (OSError, ValueError):
            pass
    if os.path.exists(vpath):
        os.remove(vpath)
    write_safetensors = load_writer()
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    for i, arch in enumerate(ARCHS):
        torch.manual_seed(SEED + i)
        model = build(arch, torch, torchvision)
        randomize_bn(model, torch)
        model.eval()
        x = torch.rand(2, 3, 64, 64)
        xn = (x - mean) / std
        with torch.no_grad():
            logits = model(xn)
        write_safetensors(os.path.join(out_dir, f"{arch}.safetensors"), model.state_dict(), {"format": "pt", "arch": arch, "seed": str(SEED + i)})
        write_safetensors(os.path.join(out_dir, f"{arch}.io.safetensors"), {"x": x, "xn": xn, "logits": logits}, {"arch": arch})
        if arch in ONNX_ARCHS:
            for suffix, kw in (("onnx", {}), ("bn.onnx", {"do_constant_folding": False, "training": torch.onnx.TrainingMode.PRESERVE})):
                path = os.path.join(out_dir, f"{arch}.{suffix}")
                tmp = f"{path}.{os.getpid()}.tmp"
                with torch.no_grad():
                    torch.onnx.export(model, xn, tmp, opset_version=13, input_names=["input"], output_names=["logits"],
                                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, **kw)
                os.replace(tmp, path)
    tmp = f"{vpath}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(want, f, indent=1)
    os.replace(tmp, vpath)
    print(f"gen-torch-arch-fixtures: wrote {len(files) + 1} files to {out_dir} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
