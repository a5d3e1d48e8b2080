"""The fake-quant QAT of ts/quant written in torch (PROTOCOL.md §1, mqbench-paper "academic" semantics), for the
parity test (test/parity/quant-torch.test.ts via scripts/quant_torch_step.py) and the benchmark (bench/qat).

Written from PROTOCOL.md; torch's own fake-quant ops do the rounding:
- DoReFa / PACT weights: tanh(w) / (max|tanh w| + 1e-5), min/max scale, torch.fake_quantize_per_tensor_affine.
- DoReFa activations (b < 8): fixed scale 1/(2^b-1) unsigned, 2/(2^b-1) signed.
- PACT activations (b < 8): alpha = |alpha|, torch.where clipping (alpha gets the where-gradient), detached scale.
- 8-bit DoReFa / PACT activations: per-batch min/max.
- LSQ: torch._fake_quantize_learnable_per_tensor_affine with grad_factor 1/sqrt(numel * Q_P), step initialised on
  the first training batch to 2 mean|x| / sqrt(Q_P).
Activation quantizers start with the sign given (ours decides it with a probe forward) and switch to unsigned
the first time a training batch has min >= 0. Run with Debian's /usr/bin/python3 (python3-torch).
"""
import torch
import torch.nn.functional as F

EPS = torch.finfo(torch.float32).eps


def qrange(bits, signed):
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)


def minmax_scale(lo, hi, qmin, qmax, unsigned):
    """mqbench-paper's symmetric observer scale, in float32 tensors."""
    lo = torch.minimum(torch.as_tensor(lo, dtype=torch.float32), torch.zeros(()))
    hi = torch.maximum(torch.as_tensor(hi, dtype=torch.float32), torch.zeros(()))
    m = torch.maximum(-lo, hi)
    s = m / float(qmax - qmin) if unsigned else m / (float(qmax - qmin) / 2)
    return torch.clamp(s, min=EPS)


def kind_of(method, bits, role):
    if method == "lsq":
        return "lsq"
    if role == "weight":
        return "dorefa-weight"
    if bits == 8:
        return "minmax"
    return "pact" if method == "pact" else "dorefa-fixed"


class FakeQuant(torch.nn.Module):
    def __init__(self, method, bits, role, signed=True):
        super().__init__()
        self.method, self.bits, self.role, self.signed = method, bits, role, signed
        self.kind = kind_of(method, bits, role)
        self.initialized = False
        if self.kind == "lsq":
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.register_buffer("zero_point", torch.zeros(1))
        if self.kind == "pact":
            self.alpha = torch.nn.Parameter(torch.tensor([6.0]))
        self.last_scale = None

    def forward(self, x):
        if self.role == "weight":
            qmin, qmax = qrange(self.bits, True)
            if self.kind == "lsq":
                return self._lsq(x, qmin, qmax)
            t = torch.tanh(x)
            wn = t / (t.abs().max() + 1e-5)
            s = minmax_scale(wn.detach().min(), wn.detach().max(), qmin, qmax, False)
            self.last_scale = float(s)
            return torch.fake_quantize_per_tensor_affine(wn, float(s), 0, qmin, qmax)
        if self.kind != "lsq" and self.training and self.signed and float(x.min()) >= 0:
            self.signed = False
        if self.kind == "lsq":
            if self.training and not self.initialized and self.signed and float(x.min()) >= 0:
                self.signed = False
            qmin, qmax = qrange(self.bits, self.signed)
            return self._lsq(x, qmin, qmax)
        qmin, qmax = qrange(self.bits, self.signed)
        if self.kind == "dorefa-fixed":
            s = minmax_scale(-1.0 if self.signed else 0.0, 1.0, qmin, qmax, not self.signed)
        elif self.kind == "minmax":
            s = minmax_scale(x.detach().min(), x.detach().max(), qmin, qmax, not self.signed)
        else:
            self.alpha.data = self.alpha.data.abs()
            a = float(self.alpha.data[0])
            x = torch.where(x > self.alpha, self.alpha, x)
            if float(x.min()) < 0:
                x = torch.where(x < -self.alpha, -self.alpha, x)
            s = minmax_scale(-a if self.signed else 0.0, a, qmin, qmax, not self.signed)
        self.last_scale = float(s)
        return torch.fake_quantize_per_tensor_affine(x, float(s), 0, qmin, qmax)

    def _lsq(self, x, qmin, qmax):
        if self.training and not self.initialized:
            self.scale.data = (2 * x.detach().abs().mean() / (qmax ** 0.5)).reshape(1)
            self.initialized = True
        self.scale.data.abs_()
        self.scale.data.clamp_(min=EPS)
        g = 1.0 / (x.numel() * qmax) ** 0.5
        return torch._fake_quantize_learnable_per_tensor_affine(x, self.scale, self.zero_point, qmin, qmax, g)


def prepare(model, method, bits, state=None):
    """Wraps every Conv2d / Linear (first conv and last linear at 8 bits) as ts/quant's prepareQat, in module
    order; `state` (our state dict as name -> tensor) supplies the signs, alpha and initialised LSQ steps."""
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    first = next(i for i, (_, m) in enumerate(layers) if isinstance(m, torch.nn.Conv2d))
    last = max(i for i, (_, m) in enumerate(layers) if isinstance(m, torch.nn.Linear))
    out = []
    for i, (name, m) in enumerate(layers):
        b = 8 if i in (first, last) else bits
        iq = FakeQuant(method, b, "input")
        wq = FakeQuant(method, b, "weight")
        if state is not None:
            iq.signed = bool(state[f"{name}.input_fake_quant.signed"].item() == 1)
            if iq.kind == "pact":
                iq.alpha.data.copy_(state[f"{name}.input_fake_quant.alpha"].reshape(1))
            for q, role in ((iq, "input"), (wq, "weight")):
                key = f"{name}.{role}_fake_quant.initialized"
                if q.kind == "lsq" and key in state and state[key].item() == 1:
                    q.initialized = True
                    q.scale.data.copy_(state[f"{name}.{role}_fake_quant.scale"].reshape(1))
        m.input_fake_quant = iq
        m.weight_fake_quant = wq
        if isinstance(m, torch.nn.Conv2d):
            m.forward = (lambda mod: lambda x: F.conv2d(mod.input_fake_quant(x), mod.weight_fake_quant(mod.weight), mod.bias,
                                                        mod.stride, mod.padding, mod.dilation, mod.groups))(m)
        else:
            m.forward = (lambda mod: lambda x: F.linear(mod.input_fake_quant(x), mod.weight_fake_quant(mod.weight), mod.bias))(m)
        out.append((name, m))
    return out
