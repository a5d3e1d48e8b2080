// The native fake-quant kernels (native/kernels/float/f32-fake-quant.cc) against their TS reference loops
// (ts/quant/fake.ts with setFakeQuantNative(false)): forward values, STE masks (through the gradient of x),
// LSQ's scale gradients, PACT's α gradient and DoReFa's weight gradient bit for bit, since both sum in the same fixed order; min/max
// bit for bit (sign of zero included); the same bits for 1, 2 and 3 native threads; a whole resnet20 QAT
// step per method with identical losses and gradients; named errors from the addon.
import { strict as assert } from 'node:assert';
import { Tensor } from '../../../ts/tensor/tensor.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { native } from '../../../ts/native/binding.ts';
import { resnet20 } from '../../../ts/nn/models/resnet20.ts';
import {
  fakeQuantize, lsqQuantize, pactClip, pactQuantize, dorefaWeightQuantize, minMax, setFakeQuantNative, prepareQat, quantConfig, FQ_BLOCK,
} from '../../../ts/quant/index.ts';

const f = Math.fround;

/** First index where the bit patterns differ, or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}
function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  const i = firstDiff(a, b);
  assert.equal(i, -1, `${what}: differs at ${i} (${a[i]} vs ${b[i]}, length ${a.length} vs ${b.length})`);
}

/** Runs fn with the TS loops, then with the native kernels (optionally with a native thread count). */
function both<T>(fn: () => T, threads?: number): { ref: T; nat: T } {
  const prev = setFakeQuantNative(false);
  const before = process.env.OMP_NUM_THREADS;
  try {
    const ref = fn();
    setFakeQuantNative(true);
    if (threads !== undefined) process.env.OMP_NUM_THREADS = String(threads); // float_threads() reads it per call
    const nat = fn();
    return { ref, nat };
  } finally {
    setFakeQuantNative(prev);
    if (before === undefined) delete process.env.OMP_NUM_THREADS;
    else process.env.OMP_NUM_THREADS = before;
  }
}

/** Values that hit every branch for scale s on [qmin, qmax] (as native/tests/test_fake_quant.cc). */
function awkward(n: number, s: number, qmin: number, qmax: number, seed: number, specials = true): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(qmax - qmin + 5) + qmin - 2;
    const sign = rng.uniform() < 0.5;
    switch (rng.int(16)) {
      case 0: x[i] = (k + 0.5) * s; break;
      case 1: x[i] = qmax * s; break;
      case 2: x[i] = (qmax + 0.5) * s; break;
      case 3: x[i] = (qmin - 0.5) * s; break;
      case 4: x[i] = qmin * s; break;
      case 5: x[i] = sign ? 0 : -0; break;
      case 6: x[i] = specials ? (sign ? 3e30 : -3e30) : 0.5 * s; break;
      case 7: x[i] = specials ? (sign ? Infinity : -Infinity) : -0.5 * s; break;
      case 8: x[i] = specials ? NaN : 1; break;
      case 9: x[i] = sign ? 1e-40 : -1e-40; break;
      case 10: x[i] = -0.5 * s; break;
      default: x[i] = (rng.uniform() * 2 - 1) * (qmax - qmin + 2) * s * 0.6;
    }
  }
  return x;
}
function noise(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
}

const SIZES = [1, 7, 8, 9, FQ_BLOCK - 1, FQ_BLOCK, FQ_BLOCK + 3, 70001, 200003];
const RANGES: [number, number][] = [[-8, 7], [0, 15], [-128, 127], [0, 255], [-2, 1], [5, 5]];
const SCALES = [0.25, f(0.1), 1.1920928955078125e-7, f(3.7)];

describe('quant: native fake-quant kernels equal the TS loops bit for bit', () => {
  it('fakeQuantize: values and STE masks, per tensor, awkward sizes and values, 1-3 threads', () => {
    let cases = 0;
    for (const n of SIZES) {
      for (const [qmin, qmax] of RANGES) {
        for (const s of SCALES) {
          const xd = awkward(n, s, qmin, qmax, n * 7 + qmax + Math.round(s * 1000));
          const g = noise(n, n + 1);
          const run = () => {
            const x = ag.param(Tensor.from(xd.slice(), [n]));
            const y = fakeQuantize(x, s, qmin, qmax);
            ag.backward(y, Tensor.from(g, [n]));
            return { y: y.data, gx: x.grad!.data };
          };
          const { ref, nat } = both(run, 1 + (cases % 3));
          sameBits(nat.y, ref.y, `y n=${n} [${qmin},${qmax}] s=${s}`);
          sameBits(nat.gx, ref.gx, `gx n=${n} [${qmin},${qmax}] s=${s}`);
          cases++;
        }
      }
    }
    assert.equal(cases, SIZES.length * RANGES.length * SCALES.length);
  });

  it('fakeQuantize per channel (planes no multiple of the block or the lanes)', () => {
    for (const [c, inner] of [[3, 1], [3, 4099], [5, 13], [16, 577], [7, 8195], [64, 1001]] as const) {
      const sc = Float32Array.from({ length: c }, (_, k) => (k % 2 ? 0.25 / 2 ** (k % 5) : 0.013 * (k + 1)));
      const xd = awkward(c * inner, 0.25, -8, 7, c * 1000 + inner);
      const g = noise(c * inner, c);
      for (const threads of [1, 2, 3]) {
        const { ref, nat } = both(() => {
          const x = ag.param(Tensor.from(xd.slice(), [c, inner]));
          const y = fakeQuantize(x, sc, -8, 7);
          ag.backward(y, Tensor.from(g, [c, inner]));
          return { y: y.data, gx: x.grad!.data };
        }, threads);
        sameBits(nat.y, ref.y, `y [${c}, ${inner}]`);
        sameBits(nat.gx, ref.gx, `gx [${c}, ${inner}]`);
      }
    }
  });

  it('lsqQuantize: values, grad x and the scale gradients (same summation order), per tensor and per channel', () => {
    const shapes: [number, number][] = [[1, 1], [1, 7], [1, 4099], [1, 70001], [1, 200003], [3, 4099], [16, 577], [5, 8195]];
    for (const [c, inner] of shapes) {
      for (const [qmin, qmax] of RANGES) {
        const sc = Float32Array.from({ length: c }, (_, k) => (k % 2 ? 0.25 : f(0.07 * (k + 1))));
        const n = c * inner;
        const xd = awkward(n, sc[0]!, qmin, qmax, n + qmin + 1000, false);
        const g = noise(n, 3 * n + 1);
        const gf = 1 / Math.sqrt(inner * Math.max(qmax, 1));
        for (const threads of [1, 3]) {
          const { ref, nat } = both(() => {
            const x = ag.param(Tensor.from(xd.slice(), c === 1 ? [n] : [c, inner]));
            const s = ag.param(Tensor.from(sc.slice(), [c]));
            const y = lsqQuantize(x, s, qmin, qmax, gf);
            ag.backward(y, Tensor.from(g, x.shape));
            return { y: y.data, gx: x.grad!.data, gs: s.grad!.data };
          }, threads);
          const what = `[${c}, ${inner}] [${qmin},${qmax}] threads ${threads}`;
          sameBits(nat.y, ref.y, `y ${what}`);
          sameBits(nat.gx, ref.gx, `gx ${what}`);
          sameBits(nat.gs, ref.gs, `gs ${what}`);
        }
      }
    }
  });

  it('pactQuantize (fused, native) equals fakeQuantize(pactClip(...)) (TS): values, grad x, grad α', () => {
    for (const n of [1, 7, 4099, 70001, 200003]) {
      for (const a of [6, 0.75, 0]) {
        for (const nonneg of [false, true]) {
          for (const low of [true, false, 'auto'] as const) {
            for (const signed of [false, true]) {
              const [qmin, qmax] = signed ? [-8, 7] : [0, 15];
              const s = Math.max(f(a / (signed ? 7.5 : 15)), 1.1920928955078125e-7);
              const xd = awkward(n, s * 1.3, qmin - 3, qmax + 3, n + a * 8 + (nonneg ? 1 : 0));
              if (nonneg) for (let i = 0; i < n; i++) xd[i] = Math.abs(xd[i]!);
              const g = noise(n, n + 11);
              const { ref, nat } = both(() => {
                const x = ag.param(Tensor.from(xd.slice(), [n]));
                const alpha = ag.param(Tensor.from([a]));
                const y = pactQuantize(x, alpha, low, s, qmin, qmax);
                ag.backward(y, Tensor.from(g, [n]));
                return { y: y.data, gx: x.grad!.data, ga: alpha.grad!.data };
              }, 1 + (n % 3));
              const what = `n=${n} α=${a} ${nonneg ? '≥ 0' : 'mixed'} low=${low} ${signed ? 'signed' : 'unsigned'}`;
              sameBits(nat.y, ref.y, `y ${what}`);
              sameBits(nat.gx, ref.gx, `gx ${what}`);
              sameBits(nat.ga, ref.ga, `gα ${what}`);
            }
          }
        }
      }
    }
  });

  it('pactQuantize hand-computed and its TSDoc example', () => {
    for (const on of [false, true]) {
      const prev = setFakeQuantNative(on);
      try {
        assert.deepEqual(pactQuantize(Tensor.from([-8, 1, 9]), Tensor.from([6]), 'auto', 1, -8, 7).toArray(), [-6, 1, 6]);
        const x = ag.param(Tensor.from([-8, 1, 9, 6]));
        const alpha = ag.param(Tensor.from([6]));
        ag.backward(pactQuantize(x, alpha, 'auto', 1, -8, 7), Tensor.from([1, 2, 4, 8]));
        assert.deepEqual(alpha.grad!.toArray(), [3], 'Σ_{x>α} g − Σ_{x<−α} g');
        assert.deepEqual(x.grad!.toArray(), [0, 2, 0, 8]);
        assert.throws(() => pactQuantize(x, Tensor.from([-1]), 'auto', 1, -8, 7), /alpha/);
        assert.throws(() => pactQuantize(x, alpha, 'auto', 0, -8, 7), /scale\[0\]/);
        assert.throws(() => pactQuantize(x, alpha, 'auto', 1, 7, -8), /qmin\.\.qmax/);
      } finally {
        setFakeQuantNative(prev);
      }
    }
    const prev = setFakeQuantNative(false);
    assert.equal(setFakeQuantNative(prev), false);
  });

  it('pactClip alone keeps its gradient (TS, fixed summation order)', () => {
    const x = ag.param(Tensor.from([-8, -1, 1, 5.9, 6, 7]));
    const a = ag.param(Tensor.from([6]));
    ag.backward(pactClip(x, a, true), Tensor.from([1, 2, 3, 4, 5, 6]));
    assert.deepEqual(a.grad!.toArray(), [6 - 1]);
  });

  it('dorefaWeightQuantize (tanh in JS, the rest native) equals the ts/autograd chain: values, scales, grad w', () => {
    for (const [c, inner, perChannel] of [[16, 144, false], [16, 144, true], [64, 576, true], [10, 64, false], [3, 7, true]] as const) {
      const rng = new Rng(c * inner);
      // saturated weights (tanh = ±1 exactly: ties at the maximum), ±0, and ordinary ones
      const wd = Float32Array.from({ length: c * inner }, (_, i) => (i % 97 === 5 ? 20 : i % 89 === 3 ? -20 : i % 83 === 1 ? -0 : rng.normal() * 0.3));
      const g = noise(c * inner, c + inner);
      const channels = perChannel ? c : 1;
      const { ref, nat } = both(() => {
        const w = ag.param(Tensor.from(wd.slice(), [c, inner]));
        const scale = new Float32Array(channels);
        const y = dorefaWeightQuantize(w, channels, -8, 7, scale);
        ag.backward(y, Tensor.from(g, [c, inner]));
        return { y: y.data, scale, gw: w.grad!.data };
      });
      sameBits(nat.y, ref.y, `y [${c}, ${inner}] per-channel ${perChannel}`);
      sameBits(nat.scale, ref.scale, `scale [${c}, ${inner}]`);
      sameBits(nat.gw, ref.gw, `grad w [${c}, ${inner}] per-channel ${perChannel}`);
    }
    const s = new Float32Array(1);
    assert.equal(dorefaWeightQuantize(Tensor.from([-2, 0.1, 3]), 1, -8, 7, s).toArray().length, 3);
    assert.throws(() => dorefaWeightQuantize(Tensor.from([1, 2, 3]), 2, -8, 7, new Float32Array(2)), /per-channel/);
    assert.throws(() => dorefaWeightQuantize(Tensor.from([1, 2]), 1, -8, 7, new Float32Array(2)), /scaleOut/);
  });

  it('minMax: per tensor and per channel, ±0 signs, NaN skipped', () => {
    const cases: [Float32Array, number][] = [
      [Float32Array.of(1, -0, 0, 2), 1],
      [Float32Array.of(-1, 0, -0, NaN), 1],
      [Float32Array.of(NaN, NaN), 1],
      [awkward(200003, 0.1, -8, 7, 5), 1],
      [awkward(16 * 577, 0.1, -8, 7, 6), 16],
    ];
    const zeros = new Float32Array(150000);
    for (let i = 0; i < zeros.length; i += 3) zeros[i] = -0;
    zeros[0] = 0.5;
    cases.push([zeros, 1]);
    for (const [xd, c] of cases) {
      for (const threads of [1, 2, 3]) {
        const { ref, nat } = both(() => minMax(Tensor.from(xd, [c, xd.length / c]), c), threads);
        sameBits(nat.lo, ref.lo, `lo n=${xd.length}`);
        sameBits(nat.hi, ref.hi, `hi n=${xd.length}`);
      }
    }
  });

  it('a whole resnet20 QAT step gives the same loss and gradients with the native kernels and the TS loops', function () {
    this.timeout(300000);
    for (const method of ['dorefa', 'pact', 'lsq'] as const) {
      const rng = new Rng(3);
      const x = Tensor.rand([4, 3, 32, 32], rng);
      const labels = [1, 3, 5, 7];
      const step = () => {
        const model = prepareQat(resnet20({ numClasses: 10, seed: 2 }), quantConfig({ method, bits: 4 })).train();
        const loss = ag.crossEntropy(model.call(x), labels, { labelSmoothing: 0.1 });
        ag.backward(loss);
        return { loss: Float32Array.of(loss.item()), grads: model.namedParameters().map(([k, p]) => [k, p.grad ? p.grad.data : null] as const) };
      };
      const { ref, nat } = both(step);
      sameBits(nat.loss, ref.loss, `${method} loss`);
      assert.equal(nat.grads.length, ref.grads.length);
      for (let i = 0; i < ref.grads.length; i++) {
        const [k, gr] = ref.grads[i]!;
        const gn = nat.grads[i]![1];
        assert.ok(gr && gn, `${method} ${k}: a gradient`);
        sameBits(gn, gr, `${method} grad ${k}`);
      }
    }
  });

  it('the addon names bad arguments instead of crashing', () => {
    const nat = native();
    const x = new Float32Array(12);
    const y = new Float32Array(12);
    const m = new Uint8Array(12);
    assert.throws(() => nat.f32FakeQuant(x, Float32Array.of(0), -8, 7, y, m), /f32FakeQuant\(scale\[0\]\): expected a finite number > 0/);
    assert.throws(() => nat.f32FakeQuant(x, Float32Array.of(1), 7, -8, y, m), /f32FakeQuant\(qmin, qmax\)/);
    assert.throws(() => nat.f32FakeQuant(x, Float32Array.of(1), 0.5, 7, y, m), /f32FakeQuant\(qmin\): expected an int32 integer/);
    assert.throws(() => nat.f32FakeQuant(x, Float32Array.of(1, 1, 1, 1, 1), -8, 7, y, m), /f32FakeQuant\(channels\)/);
    assert.throws(() => nat.f32FakeQuant(x, Float32Array.of(1), -8, 7, new Float32Array(11), m), /f32FakeQuant\(y\)/);
    assert.throws(() => nat.f32FakeQuant(x, Float32Array.of(1), -8, 7, y, new Uint8Array(3)), /f32FakeQuant\(mask\)/);
    assert.throws(() => nat.f32FakeQuant(new Float64Array(3) as unknown as Float32Array, Float32Array.of(1), -8, 7, y, m), /f32FakeQuant\(x\): expected Float32Array but received Float64Array/);
    assert.throws(() => nat.f32FakeQuantBackward(x, new Uint8Array(3), y), /f32FakeQuantBackward\(mask\)/);
    assert.throws(() => nat.f32LsqBackward(x, y, x, Float32Array.of(1), -8, 7, 1, y, new Float32Array(2)), /f32LsqBackward\(gs\)/);
    assert.throws(() => nat.f32LsqBackward(x, y, x, Float32Array.of(1), -8, 7, NaN, y, new Float32Array(1)), /f32LsqBackward\(gradFactor\)/);
    assert.throws(() => nat.f32PactFakeQuant(x, -1, 2, 0.5, 0, 15, y, m), /f32PactFakeQuant\(alpha\)/);
    assert.throws(() => nat.f32PactFakeQuant(x, 1, 9 as 2, 0.5, 0, 15, y, m), /f32PactFakeQuant\(low\)/);
    assert.throws(() => nat.f32PactFakeQuantBackward(x, new Uint8Array(5), y), /f32PactFakeQuantBackward\(code\)/);
    assert.throws(() => nat.f32MinMax(x, 5, new Float32Array(5), new Float32Array(5)), /f32MinMax\(channels\)/);
    assert.throws(() => fakeQuantize(Tensor.from([1]), 1, 0.5, 3), /qmin\.\.qmax/);
  });
});
