/**
 * Finite-difference gradient check. The output is projected on a seeded random direction r
 * (L = Σ r·y, accumulated in float64), the analytic gradient dL/dx comes from the tape, and the
 * numeric one from central differences (L(x + ε) − L(x − ε)) / 2ε, element by element.
 *
 * Storage is float32, so the check runs in float32 with stated tolerances: with ε = 1e-2 the
 * rounding noise of L is ~1e-7·|L|/ε and the truncation error O(ε²·f'''), both well below the
 * defaults atol = 2e-3, rtol = 1e-2 on O(1) inputs. Non-smooth ops must be fed inputs further than
 * ε from their kinks (relu at 0, ties of max, half-integers of round); see {@link awayFromKinks}.
 * `fn` must be pure: build any Rng or running statistics inside it.
 */
import { invalidOption } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { grad, noGrad } from './graph.ts';

export interface GradcheckOptions {
  /** Finite-difference step. Default 1e-2. */
  eps?: number;
  /** Pass when |analytic − numeric| ≤ atol + rtol·|numeric|. Defaults 2e-3 and 1e-2. */
  atol?: number;
  rtol?: number;
  /** Seed of the projection direction. Default 0. */
  seed?: number;
  /** Indices of the inputs to check (default all). */
  wrt?: readonly number[];
}

export interface GradcheckResult {
  ok: boolean;
  /** Elements compared. */
  checked: number;
  maxAbsError: number;
  /** The element with the largest error relative to its tolerance. */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

function project(y: Tensor, r: Float64Array): number {
  const d = y.contiguous().data;
  let s = 0;
  for (let i = 0; i < d.length; i++) s += r[i]! * d[i]!;
  return s;
}

/**
 * Checks the tape's gradients of `fn` at `inputs` against central differences.
 * @param fn a pure function of the inputs returning one tensor
 * @param inputs the point (copied; the caller's tensors are not modified)
 * @throws UsageError on bad options
 * @example
 * gradcheck((a) => tanh(a), [Tensor.from([0.3, -0.7])]).ok // true
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 1e-2;
  if (!(eps > 0)) throw invalidOption('eps', 'number > 0', eps);
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  for (const i of wrt) if (!Number.isInteger(i) || i < 0 || i >= inputs.length) throw invalidOption('wrt', `indices 0..${inputs.length - 1}`, i);
  const leaves = inputs.map((t, i) => {
    const c = t.clone();
    c.requiresGrad = wrt.includes(i);
    return c;
  });
  const y = fn(...leaves);
  const rng = new Rng(opts.seed ?? 0);
  const r = new Float64Array(y.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  const rT = Tensor.from(Float32Array.from(r), y.shape);
  // Use the float32-rounded direction for the numeric side too, so both differentiate the same L.
  const rr = Float64Array.from(rT.data);
  const wanted = wrt.map((i) => leaves[i]!);
  const analytic = grad(y, wanted, rT);
  let checked = 0;
  let maxAbs = 0;
  let worstRatio = -1;
  let worst: GradcheckResult['worst'] = null;
  let ok = true;
  noGrad(() => {
    wrt.forEach((inputIdx, k) => {
      const leaf = leaves[inputIdx]!;
      const d = leaf.data;
      const a = analytic[k]!.contiguous().data;
      for (let j = 0; j < d.length; j++) {
        const orig = d[j]!;
        d[j] = orig + eps;
        const hiX = d[j]!;
        const lp = project(fn(...leaves), rr);
        d[j] = orig - eps;
        const loX = d[j]!;
        const lm = project(fn(...leaves), rr);
        d[j] = orig;
        const num = (lp - lm) / (hiX - loX); // the float32 step actually taken
        const err = Math.abs(a[j]! - num);
        const tol = atol + rtol * Math.abs(num);
        maxAbs = Math.max(maxAbs, err);
        if (!(err <= tol)) ok = false;
        const ratio = Number.isNaN(err) ? Infinity : err / tol;
        if (ratio > worstRatio) {
          worstRatio = ratio;
          worst = { input: inputIdx, index: j, analytic: a[j]!, numeric: num };
        }
        checked++;
      }
    });
  });
  return { ok, checked, maxAbsError: maxAbs, worst };
}

/**
 * Moves every element closer than `margin` to one of `kinks` (or to any multiple of `period`
 * offset by the kinks) away to distance `margin`, so finite differences do not straddle a kink.
 * @example
 * awayFromKinks(Tensor.from([0.001]), [0], 0.05).item() // 0.05
 */
export function awayFromKinks(t: Tensor, kinks: readonly number[], margin: number, period?: number): Tensor {
  const out = t.clone();
  const d = out.data;
  for (let i = 0; i < d.length; i++) {
    for (const k0 of kinks) {
      const k = period ? k0 + Math.round((d[i]! - k0) / period) * period : k0;
      const dist = d[i]! - k;
      if (Math.abs(dist) < margin) d[i] = k + (dist >= 0 ? margin : -margin);
    }
  }
  return out;
}
