/**
 * batchnorm2d as torch.nn.functional.batch_norm on NCHW, forward beside backward.
 *
 * Training (or no running statistics): normalise with the batch mean and the biased batch variance;
 * running statistics, when given, are updated in place as torch does:
 *   running_mean ← (1 − momentum)·running_mean + momentum·mean
 *   running_var  ← (1 − momentum)·running_var  + momentum·var·M/(M − 1)   (unbiased, M = N·H·W)
 * Evaluation: normalise with the running statistics (a per-channel affine map).
 * Statistics accumulate in float64. The loops below are the reference; unless the float backend is
 * 'ref', the same computation runs in native code (threaded over channels, ts/tensor/float-kernels.ts).
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { bnApply, bnBackward, bnStats, getFloatBackend } from '../tensor/float-kernels.ts';
import { needsGrad, record } from './graph.ts';

export interface BatchNormOptions {
  /** Batch statistics (and running-stat updates) when true. Default false. */
  training?: boolean;
  /** torch's momentum (weight of the new batch). Default 0.1. */
  momentum?: number;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
}

function checkVec(name: string, t: Tensor | null, c: number): void {
  if (t !== null && (!(t instanceof Tensor) || t.ndim !== 1 || t.shape[0] !== c)) throw invalidOption(name, `a [${c}] tensor or null`, t instanceof Tensor ? fmtShape(t.shape) : t);
}

/**
 * Batch normalisation over N, H, W for each channel.
 * @param x [N, C, H, W]
 * @param weight γ [C] or null (1)
 * @param bias β [C] or null (0)
 * @param runningMean [C] or null; updated in place in training
 * @param runningVar [C] or null; updated in place in training (unbiased)
 * @throws UsageError on shapes, a bad momentum/eps, or training with a single value per channel
 * @example
 * batchnorm2d(Tensor.from([1, 3], [2, 1, 1, 1]), null, null, null, null, { training: true }).toArray() // ≈ [-1, 1]
 */
export function batchnorm2d(x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions = {}): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 4) throw invalidOption('x', 'a 4-d NCHW tensor', x instanceof Tensor ? fmtShape(x.shape) : x);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  for (const [name, t] of [['weight', weight], ['bias', bias], ['runningMean', runningMean], ['runningVar', runningVar]] as const) checkVec(name, t, c);
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw invalidOption('momentum', 'number in [0, 1]', momentum);
  if (typeof eps !== 'number' || !(eps > 0)) throw invalidOption('eps', 'number > 0', eps);
  const training = opts.training ?? false;
  const useBatch = training || runningMean === null || runningVar === null;
  const hw = h * w;
  const m = n * hw;
  if (useBatch && m < 2 && training) throw new UsageError(`batchnorm2d: training needs more than one value per channel but received ${fmtShape(x.shape)}`);
  if (getFloatBackend() !== 'ref') return batchnormNative(x, weight, bias, runningMean, runningVar, training, useBatch, momentum, eps);
  const xd = x.contiguous().data;
  const mean = new Float64Array(c);
  const invstd = new Float64Array(c);
  if (useBatch) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * hw;
        for (let i = 0; i < hw; i++) s += xd[base + i]!;
      }
      const mu = s / m;
      let v = 0;
      for (let b = 0; b < n; b++) {
        const base = (b * c + ch) * hw;
        for (let i = 0; i < hw; i++) {
          const d = xd[base + i]! - mu;
          v += d * d;
        }
      }
      const varB = v / m;
      mean[ch] = mu;
      invstd[ch] = 1 / Math.sqrt(varB + eps);
      if (training && runningMean && runningVar) {
        const rm = runningMean.data;
        const rv = runningVar.data;
        rm[ch] = (1 - momentum) * rm[ch]! + momentum * mu;
        rv[ch] = (1 - momentum) * rv[ch]! + momentum * (v / (m - 1));
      }
    }
  } else {
    const rm = runningMean!.contiguous().data;
    const rv = runningVar!.contiguous().data;
    for (let ch = 0; ch < c; ch++) {
      mean[ch] = rm[ch]!;
      invstd[ch] = 1 / Math.sqrt(rv[ch]! + eps);
    }
  }
  const gam = weight ? weight.contiguous().data : null;
  const bet = bias ? bias.contiguous().data : null;
  const out = Tensor.zeros(x.shape);
  const o = out.data;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const base = (b * c + ch) * hw;
      const sc = invstd[ch]! * (gam ? gam[ch]! : 1);
      const sh = (bet ? bet[ch]! : 0) - mean[ch]! * sc;
      for (let i = 0; i < hw; i++) o[base + i] = xd[base + i]! * sc + sh;
    }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record('batchnorm2d', inputs, out, (g) => {
    const gd = g.contiguous().data;
    // Per channel: Σg and Σg·x̂.
    const sg = new Float64Array(c);
    const sgx = new Float64Array(c);
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < c; ch++) {
        const base = (b * c + ch) * hw;
        const mu = mean[ch]!;
        const is = invstd[ch]!;
        let a = 0;
        let ax = 0;
        for (let i = 0; i < hw; i++) {
          const gv = gd[base + i]!;
          a += gv;
          ax += gv * (xd[base + i]! - mu) * is;
        }
        sg[ch]! += a;
        sgx[ch]! += ax;
      }
    let dx: Tensor | null = null;
    if (needsGrad(x)) {
      dx = Tensor.zeros(x.shape);
      const dd = dx.data;
      for (let b = 0; b < n; b++)
        for (let ch = 0; ch < c; ch++) {
          const base = (b * c + ch) * hw;
          const gm = gam ? gam[ch]! : 1;
          const mu = mean[ch]!;
          const is = invstd[ch]!;
          if (useBatch) {
            // NOTE: batch statistics depend on x, hence the two correction terms (mean and variance paths).
            const k = (gm * is) / m;
            const s1 = sg[ch]!;
            const s2 = sgx[ch]!;
            for (let i = 0; i < hw; i++) {
              const xh = (xd[base + i]! - mu) * is;
              dd[base + i] = k * (m * gd[base + i]! - s1 - xh * s2);
            }
          } else {
            const k = gm * is;
            for (let i = 0; i < hw; i++) dd[base + i] = k * gd[base + i]!;
          }
        }
    }
    const dgamma = weight && needsGrad(weight) ? Tensor.from(Float32Array.from(sgx), [c]) : null;
    const dbeta = bias && needsGrad(bias) ? Tensor.from(Float32Array.from(sg), [c]) : null;
    return [dx, ...(weight ? [dgamma] : []), ...(bias ? [dbeta] : [])];
  });
}

/** The native path of {@link batchnorm2d} (same arguments, already checked). */
function batchnormNative(x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor | null, runningVar: Tensor | null,
  training: boolean, useBatch: boolean, momentum: number, eps: number): Tensor {
  const [n, , h, w] = x.shape as [number, number, number, number];
  const m = n * h * w;
  let mean: Float32Array;
  let variance: Float32Array;
  if (useBatch) {
    ({ mean, variance } = bnStats(x));
    if (training && runningMean && runningVar) {
      const rm = runningMean.data;
      const rv = runningVar.data;
      for (let ch = 0; ch < mean.length; ch++) {
        rm[ch] = (1 - momentum) * rm[ch]! + momentum * mean[ch]!;
        rv[ch] = (1 - momentum) * rv[ch]! + momentum * ((variance[ch]! * m) / (m - 1));
      }
    }
  } else {
    // copies: the running statistics may change before backward runs
    mean = runningMean!.contiguous().data.slice();
    variance = runningVar!.contiguous().data.slice();
  }
  const gam = weight ? weight.contiguous().data : null;
  const out = bnApply(x, mean, variance, gam, bias ? bias.contiguous().data : null, eps);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record('batchnorm2d', inputs, out, (g) => {
    const r = bnBackward(x, g, mean, variance, gam, eps, useBatch, {
      dx: needsGrad(x), dgamma: weight !== null && needsGrad(weight), dbeta: bias !== null && needsGrad(bias),
    });
    return [r.dx, ...(weight ? [r.dgamma] : []), ...(bias ? [r.dbeta] : [])];
  });
}
