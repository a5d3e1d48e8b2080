/**
 * Adapters from the float engine to the attacks' {@link AttackModel}: an nn {@link Module} or any
 * autograd function x ↦ logits becomes `{ logits, vjp }`. This lives in eval/ so that ts/attacks stays
 * model-agnostic (it never imports nn or autograd).
 *
 * The VJP records one forward pass on the tape with the input as a leaf and runs the tape backwards
 * from the seeded logit gradient. Parameters are frozen for that pass (requiresGrad off, restored
 * after), so the backward computes input gradients only: no weight gradients, no `.grad` touched.
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { grad, noGrad, param } from '../autograd/index.ts';
import { Module } from '../nn/module.ts';
import type { AttackModel } from '../attacks/model.ts';

/** Options of {@link fromFunction} / {@link fromModule}. */
export interface AttackModelOptions {
  /** per-sample input shape [C, H, W] */
  inputShape: readonly [number, number, number];
  /** number of classes K (fromModule reads `config.numClasses` when absent) */
  numClasses?: number;
  /** recorded in results; default 'model' */
  name?: string;
  /** tensors to freeze during the VJP (fromModule: all parameters) */
  params?: readonly Tensor[];
}

function checkShape(shape: unknown): readonly [number, number, number] {
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v > 0)) throw invalidOption('inputShape', 'three positive integers [C, H, W]', shape);
  return shape as unknown as readonly [number, number, number];
}

/**
 * An {@link AttackModel} over an autograd function.
 * @param fn x [N, C, H, W] ↦ logits [N, K], built from ts/autograd ops (so the tape can differentiate it)
 * @param opts shape, classes, name, parameters to freeze
 * @throws UsageError on a bad shape or class count; the returned model's calls throw UsageError when fn returns a wrong shape
 * @example
 * const w = Tensor.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [3, 4]);
 * const m = fromFunction((t) => ag.linear(ag.flatten(t), w), { inputShape: [1, 2, 2], numClasses: 3 });
 * const { grad } = await m.vjp(new Float32Array([0.1, 0.2, 0.3, 0.4]), 1, () => new Float32Array([1, 0, 2]));
 * Array.from(grad) // [1, 0, 2, 0]
 */
export function fromFunction(fn: (x: Tensor) => Tensor, opts: AttackModelOptions): AttackModel {
  if (typeof fn !== 'function') throw invalidOption('fn', 'a function Tensor -> Tensor', fn);
  const inputShape = checkShape(opts?.inputShape);
  const k = opts.numClasses;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 2) throw invalidOption('numClasses', 'integer >= 2', k);
  const name = opts.name ?? 'model';
  const frozen = opts.params ?? [];
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const wrap = (x: Float32Array, n: number): Tensor => {
    if (!Number.isInteger(n) || n < 1) throw invalidOption('n', 'integer >= 1', n);
    if (!(x instanceof Float32Array) || x.length !== n * d) throw invalidOption('x', `${n * d} floats (n*C*H*W)`, x instanceof Float32Array ? x.length : x);
    return Tensor.from(x, [n, ...inputShape]);
  };
  const out = (z: Tensor, n: number): Float32Array => {
    if (!(z instanceof Tensor) || z.ndim !== 2 || z.shape[0] !== n || z.shape[1] !== k) {
      throw new UsageError(`model '${name}' returned ${z instanceof Tensor ? fmtShape(z.shape) : typeof z} logits; expected [${n}, ${k}]`);
    }
    return z.contiguous().data.slice();
  };
  return {
    numClasses: k,
    inputShape,
    name,
    logits: async (x, n) => out(noGrad(() => fn(wrap(x, n))), n),
    vjp: async (x, n, seed) => {
      const saved = frozen.map((p) => p.requiresGrad);
      for (const p of frozen) p.requiresGrad = false;
      try {
        const xt = param(wrap(x, n));
        const z = fn(xt);
        const logits = out(z, n);
        const gz = seed(logits.slice());
        if (!(gz instanceof Float32Array) || gz.length !== n * k) throw invalidOption('seed(logits)', `${n * k} floats (dLoss/dLogits)`, gz);
        const [gx] = grad(z, [xt], Tensor.from(gz, [n, k]));
        return { logits, grad: gx!.contiguous().data.slice() };
      } finally {
        frozen.forEach((p, i) => { p.requiresGrad = saved[i]!; });
      }
    },
  };
}

/**
 * An {@link AttackModel} over an nn Module in evaluation mode (its parameters frozen during the VJP).
 * @param module the network; must be in eval mode (BN running statistics, no dropout), else the
 *   logits would depend on the batch and the running statistics would move under attack
 * @param opts shape, classes (default `module.config.numClasses` when the module has one), name
 * @throws UsageError when the module is in training mode or the class count is unknown
 * @example
 * fromModule(resnet20({ numClasses: 10 }).eval(), { inputShape: [3, 32, 32], name: 'resnet20' }).numClasses // 10
 */
export function fromModule(module: Module, opts: AttackModelOptions): AttackModel {
  if (!(module instanceof Module)) throw invalidOption('module', 'an nn Module', module);
  if (module.training) throw new UsageError(`fromModule: '${opts?.name ?? module.constructor.name}' is in training mode; call .eval() before attacking it`);
  const cfg = (module as unknown as { config?: { numClasses?: unknown } }).config;
  const numClasses = opts?.numClasses ?? (typeof cfg?.numClasses === 'number' ? cfg.numClasses : undefined);
  return fromFunction((x) => module.call(x), { ...opts, numClasses, name: opts?.name ?? module.constructor.name, params: module.parameters() });
}
