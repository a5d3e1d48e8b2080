/**
 * The tape. Each differentiable op computes its forward result and calls {@link record} with the
 * rule for its backward, side by side in the op's file. Nodes are numbered in creation order, so
 * {@link backward} replays the reachable part of the tape in reverse: no global list is kept, and a
 * graph is freed when its output is dropped.
 *
 * Gradients flow to every input that requires one, and leaves with `requiresGrad` accumulate
 * theirs into `.grad`; {@link grad} returns gradients for chosen inputs without touching `.grad`
 * (attacks ask for d loss / d input this way).
 */
import { QrobustError, UsageError } from '../util/errors.ts';
import { Tensor, type GradNode } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { addInPlace, addSameShape, getFloatBackend } from '../tensor/float-kernels.ts';
import { HostStorage, type Storage } from '../tensor/storage.ts';
import { giveBuffer, trackBirths } from '../tensor/pool.ts';

let gradEnabled = true;
let seqCounter = 0;

/** Whether ops are being recorded (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording (evaluation, optimiser updates, finite differences).
 * @example
 * const y = noGrad(() => relu(x)); y.gradFn === null // true
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether a tensor takes part in differentiation (a leaf asking for grad, or a recorded result). */
export function needsGrad(t: Tensor): boolean {
  return t.requiresGrad || t.gradFn !== null;
}

/**
 * Attaches a backward rule to `out` when recording is on and some input needs a gradient.
 * @param op the op's name
 * @param inputs the tensors the rule returns gradients for, in order
 * @param out the forward result (returned)
 * @param backward given d loss / d out, the gradients of the inputs (null for those needing none)
 */
export function record(op: string, inputs: readonly Tensor[], out: Tensor, backward: (g: Tensor) => (Tensor | null)[]): Tensor {
  if (!gradEnabled || !inputs.some(needsGrad)) return out;
  const node: GradNode = { op, inputs, seq: ++seqCounter, backward };
  out.gradFn = node;
  return out;
}

/** Marks a tensor as a leaf that accumulates gradients; returns it. @example const w = param(Tensor.zeros([3])); */
export function param(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}

/** Below this size a JS loop beats the native call's overhead. */
const NATIVE_ADD_MIN = 1 << 14;

function addInto(acc: Tensor, g: Tensor): void {
  if (acc.size >= NATIVE_ADD_MIN && getFloatBackend() !== 'ref') {
    addInPlace(acc, g);
    return;
  }
  const a = acc.data;
  const b = g.contiguous().data;
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
}

/** prev + g as a new tensor (one pass when native). */
function sumOf(prev: Tensor, g: Tensor): Tensor {
  if (prev.size >= NATIVE_ADD_MIN && getFloatBackend() !== 'ref') return addSameShape(prev, g);
  const sum = prev.clone();
  addInto(sum, g);
  return sum;
}

function checkGradShape(where: string, t: Tensor, g: Tensor): void {
  if (g.ndim !== t.ndim || g.shape.some((d, i) => d !== t.shape[i])) {
    throw new QrobustError(`autograd: ${where} returned a gradient of shape ${fmtShape(g.shape)} for a tensor of shape ${fmtShape(t.shape)}`);
  }
}

/** Runs the tape backwards from `output`; returns the gradient of every reached tensor. */
function run(output: Tensor, gradOutput: Tensor | undefined): Map<Tensor, Tensor> {
  if (!(output instanceof Tensor)) throw new UsageError('backward: expected a Tensor output');
  if (!needsGrad(output)) throw new UsageError(`backward: ${output} does not require grad (no input with requiresGrad, or computed inside noGrad)`);
  let g0: Tensor;
  if (gradOutput === undefined) {
    if (output.size !== 1) throw new UsageError(`backward: the output ${fmtShape(output.shape)} is not a scalar; pass its gradient`);
    g0 = Tensor.full(output.shape, 1);
  } else {
    checkGradShape('gradOutput', output, gradOutput);
    g0 = gradOutput.clone();
  }
  // Collect the reachable nodes, then visit them in decreasing creation order (reverse tape).
  const nodes = new Map<GradNode, Tensor>();
  const stack: Tensor[] = [output];
  const seen = new Set<Tensor>();
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t.gradFn) {
      nodes.set(t.gradFn, t);
      for (const i of t.gradFn.inputs) if (needsGrad(i)) stack.push(i);
    }
  }
  const order = [...nodes.entries()].sort((a, b) => b[0].seq - a[0].seq);
  const grads = new Map<Tensor, Tensor>([[output, g0]]);
  // Sums created here are private, so later contributions can be added in place.
  const owned = new Set<Tensor>();
  // Buffer recycling: storages born in this pass (Tensor.empty inside the rules) go back to the pool
  // once no gradient entry uses them any more (counted per storage: rules pass gradients through and
  // return views of them). Storages from before the pass (activations, parameters, gradOutput) never do.
  const born = new WeakSet<Storage>();
  const uses = new Map<Storage, number>();
  const hold = (g: Tensor) => uses.set(g.storage, (uses.get(g.storage) ?? 0) + 1);
  const drop = (g: Tensor) => {
    const k = (uses.get(g.storage) ?? 0) - 1;
    if (k > 0) {
      uses.set(g.storage, k);
      return;
    }
    uses.delete(g.storage);
    if (born.has(g.storage) && g.storage instanceof HostStorage) {
      born.delete(g.storage); // given back once
      giveBuffer(g.storage.data);
    }
  };
  hold(g0);
  trackBirths(born, () => {
    for (const [node, t] of order) {
      const g = grads.get(t);
      if (!g) continue;
      const gi = node.backward(g);
      const consumed: Tensor[] = [];
      node.inputs.forEach((inp, k) => {
        const gk = gi[k];
        if (!gk || !needsGrad(inp)) return;
        checkGradShape(node.op, inp, gk);
        const prev = grads.get(inp);
        if (prev && owned.has(prev)) {
          addInto(prev, gk);
          consumed.push(gk);
        } else if (prev) {
          // Accumulate into a private copy (the first contribution may alias another tensor's grad).
          const sum = sumOf(prev, gk);
          grads.set(inp, sum);
          hold(sum);
          drop(prev);
          owned.add(sum);
          consumed.push(gk);
        } else {
          // A rule may pass a gradient through unchanged (add, reshape): the tensor is then shared by two
          // entries and must not be modified in place any more.
          owned.delete(gk);
          grads.set(inp, gk);
          hold(gk);
        }
      });
      // Contributions added into a sum are dead unless an entry shares their storage (checked after
      // the whole rule's output is placed: a rule may return one tensor for several inputs).
      for (const c of consumed) if (!uses.has(c.storage) && born.has(c.storage) && c.storage instanceof HostStorage) {
        born.delete(c.storage);
        giveBuffer(c.storage.data);
      }
      // Intermediate gradients are no longer needed once propagated.
      if (t !== output && !t.requiresGrad) {
        grads.delete(t);
        drop(g);
      }
    }
  });
  return grads;
}

/**
 * Back-propagates from `output` and accumulates into `.grad` of every leaf with `requiresGrad`.
 * The backward rules run with recording off (no higher-order gradients).
 * @param output a one-element tensor (a loss), or any tensor with `gradOutput` given
 * @param gradOutput d loss / d output, same shape as `output`
 * @throws UsageError when `output` does not require grad or is not a scalar without `gradOutput`
 * @example
 * const x = param(Tensor.from([1, 2])); backward(sum(mul(x, x))); x.grad!.toArray() // [2, 4]
 */
export function backward(output: Tensor, gradOutput?: Tensor): void {
  const grads = noGrad(() => run(output, gradOutput));
  for (const [t, g] of grads) {
    if (!t.requiresGrad || t.gradFn) continue;
    if (t.grad) addInto(t.grad, g);
    else t.grad = g.clone();
  }
}

/**
 * Gradients of `output` with respect to `inputs` (which must require grad or be recorded results),
 * without touching any `.grad`. An input the output does not depend on gets zeros.
 * @throws UsageError as {@link backward}
 * @example
 * const x = param(Tensor.from([3])); grad(mul(x, x), [x])[0]!.item() // 6
 */
export function grad(output: Tensor, inputs: readonly Tensor[], gradOutput?: Tensor): Tensor[] {
  const grads = noGrad(() => {
    // Keep requested intermediates: mark them temporarily so run() does not drop them.
    const marked = inputs.filter((t) => !t.requiresGrad);
    for (const t of marked) t.requiresGrad = true;
    try {
      return run(output, gradOutput);
    } finally {
      for (const t of marked) t.requiresGrad = false;
    }
  });
  return inputs.map((t) => grads.get(t)?.clone() ?? Tensor.zeros(t.shape));
}

/** Clears `.grad` of the given tensors. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) p.grad = null;
}
