"""PyTorch peer for bench/cuda (same GPU, same shapes as qrb_cuda_bench): torch._int_mm (cuBLASLt int8, int32 out)
and cuDNN float32 convolution forward / backward-data / backward-weights for the resnet18 layers at 224, plus a full
torchvision resnet18 float32 training step for context. Median of `reps` CUDA-event timings after warm-up; random
inputs. Lines use the same key=value format as qrb_cuda_bench. TF32 is OFF for the float rows (our kernels are
IEEE float32); a second set of conv rows with TF32 on (PyTorch's cuDNN default) is printed as well."""
import sys
import torch
import torch.nn.functional as F

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
only = sys.argv[3] if len(sys.argv) > 3 else ""
dev = torch.device("cuda")
torch.backends.cudnn.benchmark = True


def median_ms(fn, reps=reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    ts.sort()
    return ts[len(ts) // 2]


print(f'peer name="{torch.cuda.get_device_name(0)}" torch={torch.__version__} cuda={torch.version.cuda} '
      f'cudnn={torch.backends.cudnn.version()}', flush=True)

shapes = [(1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192), (16384, 16384, 16384),
          (100352, 64, 576), (25088, 128, 1152), (6272, 256, 2304)]
for m, n, k in (shapes if only in ("", "gemm") else []):
    a = torch.randint(-128, 128, (m, k), dtype=torch.int8, device=dev)
    w = torch.randint(-128, 128, (n, k), dtype=torch.int8, device=dev)  # [n][k] as ours; b = w.t() (column-major)
    ms = median_ms(lambda: torch._int_mm(a, w.t()))
    print(f"torch_int_mm m={m} n={n} k={k} ms={ms:.4f} tops={2.0 * m * n * k / ms * 1e-9:.1f}", flush=True)
    del a, w
    torch.cuda.empty_cache()

layers = [("conv1", 3, 64, 7, 2, 3, 224, 1, True), ("l1.3x3", 64, 64, 3, 1, 1, 56, 4, False),
          ("l2.3x3s2", 64, 128, 3, 2, 1, 56, 1, False), ("l2.3x3", 128, 128, 3, 1, 1, 28, 3, False),
          ("l2.ds", 64, 128, 1, 2, 0, 56, 1, False), ("l3.3x3s2", 128, 256, 3, 2, 1, 28, 1, False),
          ("l3.3x3", 256, 256, 3, 1, 1, 14, 3, False), ("l3.ds", 128, 256, 1, 2, 0, 28, 1, False),
          ("l4.3x3s2", 256, 512, 3, 2, 1, 14, 1, False), ("l4.3x3", 512, 512, 3, 1, 1, 7, 3, False),
          ("l4.ds", 256, 512, 1, 2, 0, 14, 1, False)]
for tf32 in ((False, True) if only in ("", "conv") else ()):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    total = 0.0
    for name, cin, cout, kk, s, p, h, count, first in layers:
        x = torch.rand(batch, cin, h, h, device=dev) * 2 - 1
        w = torch.rand(cout, cin, kk, kk, device=dev) * 2 - 1
        y = F.conv2d(x, w, stride=s, padding=p)
        dy = torch.rand_like(y) * 2 - 1
        f = median_ms(lambda: F.conv2d(x, w, stride=s, padding=p))
        bw = lambda mask: torch.ops.aten.convolution_backward(dy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, mask)
        d = 0.0 if first else median_ms(lambda: bw([True, False, False]))
        g = median_ms(lambda: bw([False, True, False]))
        step = (f + d + g) * count
        total += step
        print(f"torch_conv tf32={int(tf32)} layer={name} batch={batch} count={count} fwd_ms={f:.4f} bwd_data_ms={d:.4f} "
              f"bwd_weights_ms={g:.4f} step_ms={step:.4f}", flush=True)
    print(f"torch_conv_total tf32={int(tf32)} batch={batch} step_ms={total:.4f}", flush=True)

# Full resnet18 training step (float32, TF32 off) for context: what fraction of a step the convolutions are.
try:
    if only not in ("", "conv"):
        raise RuntimeError("skipped")
    import torchvision
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    model = torchvision.models.resnet18().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xb = torch.rand(batch, 3, 224, 224, device=dev)
    yb = torch.randint(0, 1000, (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()

    ms = median_ms(step)
    print(f"torch_resnet18_step tf32=0 batch={batch} ms={ms:.4f} img_per_s={batch / ms * 1000:.1f}", flush=True)
except Exception as e:  # noqa: BLE001
    print(f"torch_resnet18_step error={type(e).__name__}", flush=True)
