#!/usr/bin/python3
"""Generates the torch-exported fixtures of the formats tests (never committed; test/.generated is gitignored).

Run with Debian's interpreter, which has python3-torch, python3-torchvision and python3-onnx:

    /usr/bin/python3 scripts/gen-torch-fixtures.py [OUT_DIR]      # default test/.generated/torch

Writes, for resnet18 and mobilenet_v2 (torchvision, weights=None, torch.manual_seed(0), eval mode):
  <arch>.onnx          torch.onnx.export, opset 13, input 1x3x224x224
  <arch>.safetensors   the state_dict, written by the minimal safetensors writer below (the spec: u64 LE header
                       length N, N bytes of JSON padded with spaces to a multiple of 8, then the tensor bytes)
plus dtypes.safetensors (one small tensor per dtype, a scalar and an empty tensor), expected.json (values the
TypeScript tests compare against: counts, sums, first elements, read back with onnx / numpy) and versions.json.

Idempotent: when versions.json matches the current tool versions and SCRIPT_VERSION and every file exists, it
does nothing. Prints one line saying what it did.
"""
import json
import os
import sys
import time

SCRIPT_VERSION = 1
ARCHS = ("resnet18", "mobilenet_v2")

# safetensors dtype names for the torch dtypes we write, and their sizes in bytes.
DTYPES = {
    "torch.float32": ("F32", 4),
    "torch.float16": ("F16", 2),
    "torch.bfloat16": ("BF16", 2),
    "torch.float64": ("F64", 8),
    "torch.int64": ("I64", 8),
    "torch.int32": ("I32", 4),
    "torch.int16": ("I16", 2),
    "torch.int8": ("I8", 1),
    "torch.uint8": ("U8", 1),
    "torch.bool": ("BOOL", 1),
}


def tensor_bytes(t):
    """Little-endian bytes of a tensor in C order (bfloat16 through its int16 bit pattern)."""
    import torch

    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    b = t.numpy().tobytes()
    if sys.byteorder != "little" and t.element_size() > 1:
        raise SystemExit("gen-torch-fixtures: big-endian hosts are not supported")
    return b


def write_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer: header in the given order, data contiguous in the same order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        dtype, size = DTYPES[str(t.dtype)]
        b = tensor_bytes(t)
        assert len(b) == t.numel() * size
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = f"{path}.{os.getpid()}.tmp"  # per process: concurrent test runs may generate at the same time
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def versions():
    import torch
    import torchvision

    try:
        import onnx

        onnx_version = onnx.__version__
    except ImportError:
        onnx_version = None
    return {
        "script": SCRIPT_VERSION,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx_version,
    }


def summarize_onnx(path):
    """What the TS tests check, read back with the onnx package (an independent decoder)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    inits = list(m.graph.initializer)
    first = inits[0]
    arr = numpy_helper.to_array(first)
    params = int(sum(int(np.prod(t.dims)) for t in inits))
    return {
        "ir_version": m.ir_version,
        "opset": [[o.domain, o.version] for o in m.opset_import],
        "producer_name": m.producer_name,
        "producer_version": m.producer_version,
        "nodes": len(m.graph.node),
        "op_counts": ops,
        "initializers": len(inits),
        "parameters": params,
        "inputs": [[i.name, [d.dim_value if d.HasField("dim_value") else d.dim_param for d in i.type.tensor_type.shape.dim]] for i in m.graph.input],
        "outputs": [[o.name, [d.dim_value if d.HasField("dim_value") else d.dim_param for d in o.type.tensor_type.shape.dim]] for o in m.graph.output],
        "first_initializer": {
            "name": first.name,
            "dims": list(first.dims),
            "data_type": first.data_type,
            "sum": float(arr.astype(np.float64).sum()),
            "first": [float(x) for x in arr.reshape(-1)[:8]],
        },
    }


def summarize_state(sd):
    import numpy as np

    names = list(sd.keys())
    probe = names[0]
    t = sd[probe].detach().cpu().numpy()
    return {
        "tensors": len(names),
        "parameters": int(sum(v.numel() for v in sd.values())),
        "names_head": names[:5],
        "probe": {
            "name": probe,
            "shape": list(t.shape),
            "sum": float(t.astype(np.float64).sum()),
            "first": [float(x) for x in t.reshape(-1)[:8]],
        },
        "int64_scalars": [k for k, v in sd.items() if str(v.dtype) == "torch.int64"][:3],
    }


def dtype_fixture(out_dir, torch):
    """One small tensor per dtype, plus a scalar and an empty tensor; returns the expected values."""
    g = torch.Generator().manual_seed(1)
    base = torch.randn(2, 3, generator=g)
    ts = {
        "f32": base,
        "f16": base.to(torch.float16),
        "bf16": base.to(torch.bfloat16),
        "f64": base.to(torch.float64) * 3,
        "i64": torch.tensor([[-(2**40), -1, 0], [1, 7, 2**40]], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), -5, 0, 5, 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, -2, 3, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, -1, 0, 1, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255, 7], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True], dtype=torch.bool),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
    }
    write_safetensors(os.path.join(out_dir, "dtypes.safetensors"), ts, {"format": "pt", "purpose": "qrobust dtype fixture"})

    def values(t):
        if t.dtype == torch.bfloat16:
            return [int(x) & 0xFFFF for x in t.view(torch.int16).reshape(-1).tolist()]
        if t.dtype == torch.float16:
            return [int(x) & 0xFFFF for x in t.view(torch.int16).reshape(-1).tolist()]
        if t.dtype == torch.int64:
            return [str(x) for x in t.reshape(-1).tolist()]
        if t.dtype == torch.bool:
            return [1 if x else 0 for x in t.reshape(-1).tolist()]
        return [float(x) if t.is_floating_point() else int(x) for x in t.reshape(-1).tolist()]

    return {k: {"dtype": DTYPES[str(v.dtype)][0], "shape": list(v.shape), "values": values(v)} for k, v in ts.items()}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "test", ".generated", "torch")
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()

    import torch
    import torchvision

    torch.set_num_threads(2)
    want = versions()
    files = ["versions.json", "expected.json", "dtypes.safetensors"] + [f"{a}.{e}" for a in ARCHS for e in ("onnx", "safetensors")]
    vpath = os.path.join(out_dir, "versions.json")
    if all(os.path.exists(os.path.join(out_dir, f)) for f in files):
        try:
            with open(vpath) as f:
                if json.load(f) == want:
                    print(f"gen-torch-fixtures: up to date in {out_dir}")
                    return
        except (OSError, ValueError):
            pass
    if os.path.exists(vpath):
        try:
            os.remove(vpath)  # written last: its presence marks a complete set
        except FileNotFoundError:
            pass

    expected = {"models": {}}
    for arch in ARCHS:
        torch.manual_seed(0)
        model = getattr(torchvision.models, arch)(weights=None).eval()
        x = torch.randn(1, 3, 224, 224)
        onnx_path = os.path.join(out_dir, f"{arch}.onnx")
        tmp = f"{onnx_path}.{os.getpid()}.tmp"
        with torch.no_grad():
            torch.onnx.export(model, x, tmp, opset_version=13, input_names=["input"], output_names=["logits"])
        os.replace(tmp, onnx_path)
        sd = model.state_dict()
        write_safetensors(os.path.join(out_dir, f"{arch}.safetensors"), sd, {"format": "pt", "arch": arch, "seed": "0"})
        entry = {"state_dict": summarize_state(sd)}
        if want["onnx"] is not None:
            entry["onnx"] = summarize_onnx(onnx_path)
        expected["models"][arch] = entry
    expected["dtypes"] = dtype_fixture(out_dir, torch)

    for name, obj in (("expected.json", expected), ("versions.json", want)):
        tmp = os.path.join(out_dir, f"{name}.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1)
        os.replace(tmp, os.path.join(out_dir, name))
    print(f"gen-torch-fixtures: wrote {len(files)} files to {out_dir} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
