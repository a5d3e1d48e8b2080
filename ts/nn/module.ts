/**
 * Module: parameters, buffers and children under torch's names, so state dicts map one to one onto
 * torch / torchvision ones (`layer1.0.conv1.weight`, `bn1.running_mean`, ...). Iteration order is
 * torch's: a module's own parameters (or buffers) in registration order, then each child's.
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';

export abstract class Module {
  /** Training mode (batch statistics, dropout); see {@link train} / {@link eval}. */
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  /** The computation; call it through {@link call}. */
  abstract forward(x: Tensor): Tensor;

  /** Runs {@link forward}. @example model.call(x).shape */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  /** Registers a learnable tensor (marked requiresGrad); returns it. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this._params.set(name, t);
    return t;
  }

  /** Registers a state tensor that is saved but not learned (running statistics); returns it. */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this._buffers.set(name, t);
    return t;
  }

  /** Registers a child module under `name`; returns it. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  /** Direct children, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this._children];
  }

  /** Every parameter with its dotted name, torch's order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._params) out.push([prefix + n, t]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Every parameter, torch's order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._buffers) out.push([prefix + n, t]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Parameters and buffers by name, in torch's state_dict order (per module: params, buffers, children). */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this._params) out.set(prefix + n, t);
    for (const [n, t] of this._buffers) out.set(prefix + n, t);
    for (const [n, c] of this._children) for (const [k, v] of c.stateDict(`${prefix}${n}.`)) out.set(k, v);
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers (same names and shapes).
   * @param strict when true (default), missing and unexpected names are errors
   * @throws UsageError naming the first missing, unexpected or mis-shaped entry
   * @example
   * b.loadStateDict(a.stateDict());
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, strict = true): void {
    const src = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    if (strict) {
      for (const k of own.keys()) if (!src.has(k)) throw new UsageError(`loadStateDict: missing entry '${k}'`);
      for (const k of src.keys()) if (!own.has(k)) throw new UsageError(`loadStateDict: unexpected entry '${k}' (this model has ${own.size} entries, e.g. '${[...own.keys()][0]}')`);
    }
    for (const [k, dst] of own) {
      const v = src.get(k);
      if (!v) continue;
      if (!(v instanceof Tensor)) throw invalidOption(`state['${k}']`, 'a Tensor', v);
      if (v.size !== dst.size || (v.ndim !== dst.ndim && v.size !== 1)) {
        throw new UsageError(`loadStateDict: '${k}' has shape ${fmtShape(v.shape)} but the model expects ${fmtShape(dst.shape)}`);
      }
      if (v.ndim === dst.ndim && v.shape.some((d, i) => d !== dst.shape[i])) throw new UsageError(`loadStateDict: '${k}' has shape ${fmtShape(v.shape)} but the model expects ${fmtShape(dst.shape)}`);
      dst.data.set(v.contiguous().data);
    }
  }

  /** Sets training mode here and in every child; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this._children.values()) c.train(mode);
    return this;
  }

  /** Evaluation mode (running statistics, no dropout); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Number of learnable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }
}
