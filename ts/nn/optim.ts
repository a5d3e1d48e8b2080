/**
 * SGD as torch.optim.SGD (momentum, dampening, Nesterov, weight decay, per-group options):
 *   g ← ∇ + wd·p;  buf ← g (first step) or momentum·buf + (1 − dampening)·g;
 *   g ← g + momentum·buf (Nesterov) or buf;  p ← p − lr·g
 * Groups let BN parameters skip weight decay (MobileNetV2's recipe, PROTOCOL.md §1).
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { getFloatBackend, sgdStep } from '../tensor/float-kernels.ts';

/** From this many elements a parameter's update runs natively (same bits; the loop below is its reference). */
const NATIVE_SGD_MIN = 1 << 14;

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export interface ParamGroup {
  params: Tensor[];
  /** Overrides the optimiser's weight decay for this group. */
  weightDecay?: number;
}

export class SGD {
  readonly groups: ParamGroup[];
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly buffers = new Map<Tensor, Float32Array>();

  /**
   * @param params the parameters, or groups of them
   * @throws UsageError on a bad option (negative lr, Nesterov without momentum, ...)
   * @example
   * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
   */
  constructor(params: Tensor[] | ParamGroup[], opts: SgdOptions) {
    const num = (name: string, v: unknown, dflt: number) => {
      const x = v === undefined ? dflt : v;
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw invalidOption(name, 'a finite number >= 0', v);
      return x;
    };
    this.lr = num('lr', opts.lr, NaN);
    this.momentum = num('momentum', opts.momentum, 0);
    this.dampening = num('dampening', opts.dampening, 0);
    this.weightDecay = num('weightDecay', opts.weightDecay, 0);
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new UsageError('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
    const groups: ParamGroup[] = params.length > 0 && params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    groups.forEach((g, i) => {
      if (!g || !Array.isArray(g.params) || !g.params.every((p) => p instanceof Tensor)) throw invalidOption(`params[${i}]`, 'a Tensor or a group { params: Tensor[] }', g);
      if (g.weightDecay !== undefined) num(`params[${i}].weightDecay`, g.weightDecay, 0);
    });
    this.groups = groups;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    // One pass per parameter, no temporaries; Math.fround where the former loops stored into
    // Float32Arrays, so the numbers are bit-identical to torch's float32 sequence as before.
    const f = Math.fround;
    const { lr, momentum, dampening, nesterov } = this;
    for (const group of this.groups) {
      const wd = group.weightDecay ?? this.weightDecay;
      for (const p of group.params) {
        if (!p.grad) continue;
        const pd = p.data;
        const gd = p.grad.contiguous().data;
        const n = pd.length;
        if (n >= NATIVE_SGD_MIN && getFloatBackend() !== 'ref') {
          let nb = momentum === 0 ? null : this.buffers.get(p) ?? null;
          const firstNative = momentum !== 0 && !nb;
          if (firstNative) this.buffers.set(p, (nb = new Float32Array(n)));
          sgdStep(pd, gd, nb, { lr, momentum, dampening, weightDecay: wd, nesterov, first: firstNative });
          continue;
        }
        if (momentum === 0) {
          for (let i = 0; i < n; i++) pd[i] = pd[i]! - lr * f(wd !== 0 ? gd[i]! + wd * pd[i]! : gd[i]!);
          continue;
        }
        let buf = this.buffers.get(p);
        const first = !buf;
        if (!buf) {
          buf = new Float32Array(n);
          this.buffers.set(p, buf);
        }
        for (let i = 0; i < n; i++) {
          const g = f(wd !== 0 ? gd[i]! + wd * pd[i]! : gd[i]!);
          const b = first ? g : f(momentum * buf[i]! + (1 - dampening) * g);
          buf[i] = b;
          pd[i] = pd[i]! - lr * (nesterov ? f(g + momentum * b) : b);
        }
      }
    }
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }
}
