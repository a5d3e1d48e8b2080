// Forward and backward of conv2d, batchnorm2d (train/eval, running statistics), cross-entropy with
// label smoothing, linear and pooling against torch 1.13 (Debian python3-torch, float32 CPU) on fixed
// inputs written by scripts/gen-torch-float-fixtures.py into test/.generated/ (regenerated when the
// script is newer). Tolerance: |ours − torch| ≤ 1e-4 + 1e-4·|torch| per element (float32 summation
// order); convolution is checked on the default backend (oneDNN when built in) and on the scalar twin.
// Last, the acceptance check: resnet20 (the same architecture written independently in torch,
// with non-trivial BN statistics) trained for two SGD steps (Nesterov momentum 0.9, weight decay 5e-4,
// label smoothing 0.1) from torch's weights on one batch: losses, logits, every gradient of step 1,
// and every parameter and running statistic after step 2 (tolerances stated at the test).
// And torchvision's resnet18 (random weights, non-trivial BN statistics): the same state-dict names
// and shapes as ours (plus our normalize.*), and eval-mode logits at 64×64 within 2e-4 + 1e-3·|torch|.
// Skipped, with the reason, when /usr/bin/python3 has no torch.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, setFloatBackend, type FloatBackendName } from '../../ts/tensor/index.ts';
import * as ag from '../../ts/autograd/index.ts';
import { repoRoot } from '../../ts/native/binding.ts';
import { resnet18, resnet20, SGD } from '../../ts/nn/index.ts';

interface Ref { shape: number[]; offset: number; length: number }
interface Case { name: string; op: string; params: Record<string, unknown>; tensors: Record<string, Ref>; state0?: Record<string, Ref>; grads0?: Record<string, Ref>; state1?: Record<string, Ref> }

const dir = join(repoRoot, 'test', '.generated', 'float-torch');
const script = join(repoRoot, 'scripts', 'gen-torch-float-fixtures.py');
const ATOL = 1e-4;
const RTOL = 1e-4;

function load(): { cases: Case[]; torch: string; data: Float32Array } | string {
  const manifest = join(dir, 'manifest.json');
  const stale = !existsSync(manifest) || statSync(manifest).mtimeMs < statSync(script).mtimeMs;
  if (stale) {
    try {
      execFileSync('/usr/bin/python3', [script, dir], { stdio: 'pipe', timeout: 60000 });
    } catch (e) {
      return `torch fixtures could not be generated (/usr/bin/python3 with python3-torch needed): ${String((e as Error).message).split('\n')[0]}`;
    }
  }
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as { cases: Case[]; torch: string };
  const buf = readFileSync(join(dir, 'data.bin'));
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { cases: m.cases, torch: m.torch, data };
}

const worst: Record<string, number> = {};

describe('parity/float-torch: forward and backward against torch', function () {
  let fx: Exclude<ReturnType<typeof load>, string>;
  before(function () {
    const r = load();
    if (typeof r === 'string') {
      console.log(`      skipped: ${r}`);
      this.skip();
    }
    fx = r as typeof fx;
  });
  after(() => {
    if (Object.keys(worst).length) console.log(`      max |ours − torch| (torch ${fx?.torch}): ${JSON.stringify(worst, (_k, v) => (typeof v === 'number' ? Number(v.toExponential(2)) : v))}`);
  });

  const T = (c: Case, name: string): Tensor => {
    const r = c.tensors[name];
    if (!r) throw new Error(`fixture ${c.name} lacks ${name}`);
    return Tensor.from(fx.data.slice(r.offset, r.offset + r.length), r.shape);
  };
  const cmp = (label: string, got: Tensor, want: Tensor): void => {
    assert.deepEqual(got.shape, want.shape, `${label}: shape`);
    const g = got.contiguous().data;
    const w = want.data;
    let maxErr = 0;
    for (let i = 0; i < w.length; i++) {
      const e = Math.abs(g[i]! - w[i]!);
      maxErr = Math.max(maxErr, e);
      assert.ok(e <= ATOL + RTOL * Math.abs(w[i]!), `${label}[${i}]: ours ${g[i]} torch ${w[i]} (|Δ| ${e})`);
    }
    const key = label.split(':')[0]!;
    worst[key] = Math.max(worst[key] ?? 0, maxErr);
  };
  const each = (op: string, fn: (c: Case) => void) => () => {
    const cs = fx.cases.filter((c) => c.op === op);
    assert.ok(cs.length > 0);
    for (const c of cs) fn(c);
  };

  for (const backend of ['auto', 'ref'] as FloatBackendName[]) {
    it(`conv2d forward, dx, dw, db (backend ${backend})`, each('conv2d', (c) => {
      const prev = setFloatBackend(backend);
      try {
        const x = ag.param(T(c, 'x'));
        const w = ag.param(T(c, 'w'));
        const b = c.params.bias ? ag.param(T(c, 'b')) : null;
        const p = c.params as { stride: number; padding: number; dilation: number; groups: number };
        const y = ag.conv2d(x, w, b, { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups });
        cmp(`conv2d-${backend}: ${c.name} y`, y, T(c, 'y'));
        ag.backward(y, T(c, 'dy'));
        cmp(`conv2d-${backend}: ${c.name} dx`, x.grad!, T(c, 'dx'));
        cmp(`conv2d-${backend}: ${c.name} dw`, w.grad!, T(c, 'dw'));
        if (b) cmp(`conv2d-${backend}: ${c.name} db`, b.grad!, T(c, 'db'));
      } finally {
        setFloatBackend(prev);
      }
    }));
  }

  it('batchnorm2d forward, dx, dγ, dβ and running statistics', each('batchnorm2d', (c) => {
    const x = ag.param(T(c, 'x'));
    const g = ag.param(T(c, 'weight'));
    const b = ag.param(T(c, 'bias'));
    const rm = T(c, 'runningMean');
    const rv = T(c, 'runningVar');
    const p = c.params as { training: boolean; momentum: number; eps: number };
    const y = ag.batchnorm2d(x, g, b, rm, rv, p);
    cmp(`batchnorm2d: ${c.name} y`, y, T(c, 'y'));
    ag.backward(y, T(c, 'dy'));
    cmp(`batchnorm2d: ${c.name} dx`, x.grad!, T(c, 'dx'));
    cmp(`batchnorm2d: ${c.name} dweight`, g.grad!, T(c, 'dweight'));
    cmp(`batchnorm2d: ${c.name} dbias`, b.grad!, T(c, 'dbias'));
    cmp(`batchnorm2d: ${c.name} runningMean`, rm, T(c, 'runningMeanAfter'));
    cmp(`batchnorm2d: ${c.name} runningVar`, rv, T(c, 'runningVarAfter'));
  }));

  it('crossEntropy with label smoothing: loss and dlogits (mean, sum, none)', each('crossEntropy', (c) => {
    const z = ag.param(T(c, 'logits'));
    const p = c.params as { labelSmoothing: number; reduction: 'mean' | 'sum' | 'none' };
    const loss = ag.crossEntropy(z, T(c, 'target').toArray(), p);
    cmp(`crossEntropy: ${c.name} loss`, loss, T(c, 'y'));
    ag.backward(loss, T(c, 'dy'));
    cmp(`crossEntropy: ${c.name} dlogits`, z.grad!, T(c, 'dlogits'));
  }));

  it('linear forward and gradients', each('linear', (c) => {
    const x = ag.param(T(c, 'x'));
    const w = ag.param(T(c, 'w'));
    const b = ag.param(T(c, 'b'));
    const y = ag.linear(x, w, b);
    cmp(`linear: ${c.name} y`, y, T(c, 'y'));
    ag.backward(y, T(c, 'dy'));
    cmp(`linear: ${c.name} dx`, x.grad!, T(c, 'dx'));
    cmp(`linear: ${c.name} dw`, w.grad!, T(c, 'dw'));
    cmp(`linear: ${c.name} db`, b.grad!, T(c, 'db'));
  }));

  for (const op of ['maxPool2d', 'avgPool2d'] as const) {
    it(`${op} forward and dx`, each(op, (c) => {
      const x = ag.param(T(c, 'x'));
      const p = c.params as { kernel: number; stride: number; padding: number; countIncludePad: boolean };
      const y = ag[op](x, p);
      cmp(`${op}: ${c.name} y`, y, T(c, 'y'));
      ag.backward(y, T(c, 'dy'));
      cmp(`${op}: ${c.name} dx`, x.grad!, T(c, 'dx'));
    }));
  }
  // Through the scalar twin every value matches elementwise (observed ~1e-6). Through oneDNN the sums
  // run in another order; float noise of a few 1e-6 can flip a ReLU whose input is that close to 0,
  // which moves the gradients of the layers before it by ~0.4% in norm (seen with oneDNN's plain-layout
  // path on this batch: one flip in 131k activations of layer1), and flips compound over two steps.
  // So there the check is ‖Δ‖/‖torch‖ ≤ 1e-2 per gradient of step 1 and ≤ 3e-2 per tensor of the
  // final state, loss 1 and logits elementwise, loss 2 to 1e-3. (The blocked-layout path now in use
  // runs the same oneDNN kernels as torch and matches to ~3e-6.)
  for (const backend of ['ref', 'auto'] as FloatBackendName[]) {
    it(`resnet20: two SGD steps (Nesterov, weight decay, label smoothing) match torch (backend ${backend})`, function () {
      const c = fx.cases.find((k) => k.op === 'resnet20-sgd');
      assert.ok(c, 'fixture lacks the resnet20 case');
      const prev = setFloatBackend(backend);
      try {
        resnetStep(c, backend === 'ref' ? 'elementwise' : 'norm');
      } finally {
        setFloatBackend(prev);
      }
    });
  }

  function resnetStep(c: Case, mode: 'elementwise' | 'norm'): void {
    const p = c.params as { lr: number; momentum: number; nesterov: boolean; weight_decay: number; label_smoothing: number; steps: number; losses: number[] };
    const get = (r: Ref) => Tensor.from(fx.data.slice(r.offset, r.offset + r.length), r.shape);
    const model = resnet20({ mean: [0.5, 0.4, 0.3], std: [0.25, 0.2, 0.3] }).train();
    model.loadStateDict(new Map(Object.entries(c.state0!).map(([k, r]) => [k, get(r)])));
    const opt = new SGD(model.parameters(), { lr: p.lr, momentum: p.momentum, nesterov: p.nesterov, weightDecay: p.weight_decay });
    const x = T(c, 'x');
    const y = T(c, 'target').toArray();
    const errs = { loss: 0, logits: 0, grad: 0, state: 0 };
    let normTol = 1e-2;
    const tol = (label: string, got: Tensor, want: Tensor, m: 'elementwise' | 'norm'): number => {
      assert.deepEqual(got.shape, want.shape, `${label}: shape`);
      const g = got.contiguous().data;
      const w = want.data;
      let maxErr = 0;
      let d2 = 0;
      let n2 = 0;
      for (let i = 0; i < w.length; i++) {
        const e = Math.abs(g[i]! - w[i]!);
        maxErr = Math.max(maxErr, e);
        d2 += e * e;
        n2 += w[i]! * w[i]!;
        if (m === 'elementwise') assert.ok(e <= 1e-4 + 1e-3 * Math.abs(w[i]!), `${label}[${i}]: ours ${g[i]} torch ${w[i]}`);
      }
      const rel = Math.sqrt(d2 / Math.max(n2, 1e-30));
      if (m === 'norm') assert.ok(rel <= normTol, `${label}: ‖Δ‖/‖torch‖ = ${rel} > ${normTol}`);
      return m === 'norm' ? rel : maxErr;
    };
    for (let step = 0; step < p.steps; step++) {
      opt.zeroGrad();
      const out = model.call(x);
      const loss = ag.crossEntropy(out, y, { labelSmoothing: p.label_smoothing });
      ag.backward(loss);
      const le = Math.abs(loss.item() - p.losses[step]!);
      errs.loss = Math.max(errs.loss, le);
      const lossTol = mode === 'norm' && step > 0 ? 1e-3 : 1e-4;
      assert.ok(le <= lossTol * Math.abs(p.losses[step]!), `loss at step ${step}: ours ${loss.item()} torch ${p.losses[step]}`);
      if (step === 0) {
        errs.logits = tol('logits', out, T(c, 'logits0'), 'elementwise');
        for (const [name, param] of model.namedParameters()) errs.grad = Math.max(errs.grad, tol(`grad ${name}`, param.grad!, get(c.grads0![name]!), mode));
      }
      opt.step();
    }
    const own = model.stateDict();
    normTol = 3e-2; // after two updates the flips compound (see above); the ref run is the tight check
    for (const [name, r] of Object.entries(c.state1!)) {
      const t = own.get(name);
      assert.ok(t, `our model lacks ${name}`);
      errs.state = Math.max(errs.state, tol(`state ${name}`, t, get(r), mode));
    }
    console.log(`      resnet20 SGD parity (${mode === 'norm' ? 'grad/state as max ‖Δ‖/‖torch‖' : 'max |Δ|'}): ${JSON.stringify(errs, (_k, v) => (typeof v === 'number' ? Number(v.toExponential(2)) : v))}`);
  }

  it('resnet18: torchvision state dict loads by name; eval logits match torchvision', function () {
    const c = fx.cases.find((k) => k.op === 'resnet18-eval');
    if (!c) {
      console.log('      skipped: python3-torchvision is not installed');
      this.skip();
    }
    const get = (r: Ref) => Tensor.from(fx.data.slice(r.offset, r.offset + r.length), r.shape);
    const model = resnet18({ numClasses: 10 }).eval();
    const ours = model.stateDict();
    const theirs = Object.entries(c!.state0!);
    const ourKeys = [...ours.keys()].filter((k) => !k.startsWith('normalize.'));
    assert.deepEqual(ourKeys, theirs.map(([k]) => k), 'state-dict names and order');
    for (const [k, r] of theirs) assert.deepEqual([...ours.get(k)!.shape], k.endsWith('num_batches_tracked') ? [] : r.shape, `shape of ${k}`);
    model.loadStateDict(new Map(theirs.map(([k, r]) => [k, get(r)])), false);
    const logits = ag.noGrad(() => model.call(T(c!, 'x')));
    const want = T(c!, 'logits');
    assert.deepEqual(logits.shape, want.shape);
    let worstErr = 0;
    logits.data.forEach((v, i) => {
      const e = Math.abs(v - want.data[i]!);
      worstErr = Math.max(worstErr, e);
      assert.ok(e <= 2e-4 + 1e-3 * Math.abs(want.data[i]!), `logit ${i}: ours ${v} torchvision ${want.data[i]}`);
    });
    console.log(`      resnet18 eval logits, max |ours − torchvision|: ${worstErr.toExponential(2)}`);
  });
});
