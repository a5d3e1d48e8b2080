/**
 * Tensor: a float32 NCHW array as a view (shape, strides, offset) over a {@link Storage}.
 *
 * Methods here are plain data operations and are never recorded for autograd: views made with
 * {@link Tensor.view} / {@link Tensor.permute} / {@link Tensor.narrow} are detached. Differentiable
 * code uses the ops of ts/autograd (reshape, flatten, add, conv2d, ...). The autograd fields
 * (`requiresGrad`, `grad`, `gradFn`) live here so that any tensor can be a graph leaf or node.
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { HostStorage, hostData, type Storage } from './storage.ts';
import { checkShape, contiguousStrides, fmtShape, numel, type Shape } from './shape.ts';
import { noteBirth, takeBuffer } from './pool.ts';

/** A recorded operation: its inputs and the rule that maps the output gradient to input gradients. */
export interface GradNode {
  /** Op name, e.g. 'conv2d' (shown in errors and debugging). */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Creation order: backward visits nodes in decreasing seq (a tape replayed backwards). */
  readonly seq: number;
  /** Gradients for each input (null where the input needs none), given the output's gradient. */
  backward(gradOut: Tensor): (Tensor | null)[];
}

/** Below this many elements {@link Tensor.empty} returns zeroed memory (no gain in skipping it). */
const EMPTY_UNINITIALISED_MIN = 1 << 12;

export class Tensor {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype = 'float32' as const;
  /** Leaf flag: backward() accumulates into `grad` for leaves that set it (parameters, attack inputs). */
  requiresGrad = false;
  /** Accumulated gradient (leaves only), same shape, contiguous. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when recorded. */
  gradFn: GradNode | null = null;

  /**
   * Low-level constructor; prefer {@link Tensor.from}, {@link Tensor.zeros} and friends.
   * @throws UsageError when the view does not fit in the storage
   */
  constructor(storage: Storage, shape: Shape, strides?: Shape, offset = 0) {
    this.storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.strides = Object.freeze(strides ? strides.slice() : contiguousStrides(shape));
    this.offset = offset;
    const n = numel(shape);
    if (n > 0) {
      let last = offset;
      for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * this.strides[i]!;
      if (offset < 0 || last >= storage.length) {
        throw new UsageError(`Tensor view ${fmtShape(shape)} (strides ${fmtShape(this.strides)}, offset ${offset}) exceeds its storage of ${storage.length} elements`);
      }
    }
  }

  /**
   * A tensor over `data`. A Float32Array is wrapped zero-copy; other array-likes are copied.
   * @param data the elements, row-major
   * @param shape defaults to `[data.length]`
   * @throws UsageError when the element count does not match the shape
   * @example
   * Tensor.from([1, 2, 3, 4], [2, 2]).get(1, 0) // 3
   */
  static from(data: Float32Array | ArrayLike<number>, shape?: Shape): Tensor {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    const s = shape === undefined ? [arr.length] : checkShape('shape', shape);
    if (numel(s) !== arr.length) throw invalidOption('data', `${numel(s)} elements for shape ${fmtShape(s)}`, arr.length);
    return new Tensor(new HostStorage(arr), s);
  }

  /**
   * A tensor filled with `value`.
   * @throws UsageError on a bad shape
   * @example
   * Tensor.full([2, 3], 7).sum() // 42
   */
  static full(shape: Shape, value: number): Tensor {
    const s = checkShape('shape', shape);
    const a = new Float32Array(numel(s)); // already zero: fill only for other values (8% of a training step)
    if (value !== 0) a.fill(value);
    return new Tensor(new HostStorage(a), s);
  }

  /**
   * A tensor whose contents are unspecified, for outputs that a kernel overwrites entirely. Large
   * buffers come from the tape's recycled gradient buffers (ts/tensor/pool.ts) or skip the zero fill
   * (Node's uninitialised allocation: malloc can hand back a freed block without the kernel clearing
   * fresh pages); small ones are ordinary zeroed arrays. Read nothing before writing every element.
   * @throws UsageError on a bad shape
   * @example
   * Tensor.empty([2, 3]).shape // [2, 3]
   */
  static empty(shape: Shape): Tensor {
    const s = checkShape('shape', shape);
    const n = numel(s);
    if (n < EMPTY_UNINITIALISED_MIN) return new Tensor(new HostStorage(new Float32Array(n)), s);
    let a = takeBuffer(n);
    if (!a) {
      const bytes = Buffer.allocUnsafeSlow(n * 4);
      a = new Float32Array(bytes.buffer, bytes.byteOffset, n);
    }
    const storage = new HostStorage(a);
    noteBirth(storage);
    return new Tensor(storage, s);
  }

  /** Zeros. @example Tensor.zeros([2, 2]).size // 4 */
  static zeros(shape: Shape): Tensor {
    return Tensor.full(shape, 0);
  }

  /** Ones. @example Tensor.ones([3]).sum() // 3 */
  static ones(shape: Shape): Tensor {
    return Tensor.full(shape, 1);
  }

  /** A 0-d tensor. @example Tensor.scalar(2.5).item() // 2.5 */
  static scalar(v: number): Tensor {
    return new Tensor(new HostStorage(Float32Array.of(v)), []);
  }

  /**
   * Normal(mean, std) samples from a seeded generator.
   * @example
   * Tensor.randn([2], new Rng(1)).size // 2
   */
  static randn(shape: Shape, rng: Rng, std = 1, mean = 0): Tensor {
    const t = Tensor.zeros(shape);
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
    return t;
  }

  /**
   * Uniform samples in [lo, hi) from a seeded generator.
   * @example
   * Tensor.rand([4], new Rng(1), -1, 1).size // 4
   */
  static rand(shape: Shape, rng: Rng, lo = 0, hi = 1): Tensor {
    const t = Tensor.zeros(shape);
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.uniform();
    return t;
  }

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Whether the view is row-major dense (zero-copy into native code). */
  isContiguous(): boolean {
    let acc = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== acc) return false;
      acc *= this.shape[i]!;
    }
    return true;
  }

  /**
   * The elements of a contiguous tensor, as a zero-copy Float32Array view of its storage (writes go
   * through). Non-contiguous tensors must call {@link contiguous} first.
   * @throws QrobustError when the tensor is not contiguous or not on the host
   */
  get data(): Float32Array {
    if (!this.isContiguous()) throw new QrobustError(`Tensor.data: the view ${fmtShape(this.shape)} with strides ${fmtShape(this.strides)} is not contiguous; call contiguous() first`);
    return hostData(this.storage).subarray(this.offset, this.offset + this.size);
  }

  /** This tensor if contiguous, else a contiguous (detached) copy. @example Tensor.zeros([2,3]).permute([1,0]).contiguous().isContiguous() // true */
  contiguous(): Tensor {
    if (this.isContiguous()) return this;
    const out = Tensor.zeros(this.shape);
    const src = hostData(this.storage);
    const dst = out.data;
    const nd = this.shape.length;
    const pos = new Array<number>(nd).fill(0);
    let off = this.offset;
    for (let t = 0; t < dst.length; t++) {
      dst[t] = src[off]!;
      for (let d = nd - 1; d >= 0; d--) {
        pos[d]!++;
        off += this.strides[d]!;
        if (pos[d]! < this.shape[d]!) break;
        off -= this.strides[d]! * this.shape[d]!;
        pos[d] = 0;
      }
    }
    return out;
  }

  /**
   * A detached view with a new shape (one entry may be -1). Zero-copy when contiguous.
   * @throws UsageError when the element counts differ
   * @example
   * Tensor.zeros([2, 3, 4]).view([2, -1]).shape // [2, 12]
   */
  view(shape: Shape): Tensor {
    const s = shape.slice();
    const neg = s.indexOf(-1);
    if (neg >= 0) {
      const rest = numel(s.filter((_, i) => i !== neg));
      s[neg] = rest === 0 ? 0 : this.size / rest;
    }
    checkShape('shape', s);
    if (numel(s) !== this.size) throw invalidOption('shape', `a shape of ${this.size} elements (from ${fmtShape(this.shape)})`, `${fmtShape(shape)}` as unknown);
    const c = this.contiguous();
    return new Tensor(c.storage, s, undefined, c.offset);
  }

  /**
   * A detached view with permuted axes (no copy).
   * @throws UsageError when `dims` is not a permutation of the axes
   * @example
   * Tensor.zeros([2, 3]).permute([1, 0]).shape // [3, 2]
   */
  permute(dims: readonly number[]): Tensor {
    const nd = this.ndim;
    if (dims.length !== nd || new Set(dims).size !== nd || !dims.every((d) => Number.isInteger(d) && d >= 0 && d < nd)) {
      throw invalidOption('dims', `a permutation of 0..${nd - 1}`, dims);
    }
    return new Tensor(this.storage, dims.map((d) => this.shape[d]!), dims.map((d) => this.strides[d]!), this.offset);
  }

  /**
   * A detached view of `length` entries of axis `dim` from `start` (a batch slice, zero-copy).
   * @throws UsageError when the range is outside the axis
   * @example
   * Tensor.from([1, 2, 3, 4], [4, 1]).narrow(0, 1, 2).toArray() // [2, 3]
   */
  narrow(dim: number, start: number, length: number): Tensor {
    if (!Number.isInteger(dim) || dim < 0 || dim >= this.ndim) throw invalidOption('dim', `integer 0..${this.ndim - 1}`, dim);
    const n = this.shape[dim]!;
    if (!Number.isInteger(start) || start < 0 || start > n) throw invalidOption('start', `integer 0..${n}`, start);
    if (!Number.isInteger(length) || length < 0 || start + length > n) throw invalidOption('length', `integer 0..${n - start}`, length);
    const shape = this.shape.slice();
    shape[dim] = length;
    return new Tensor(this.storage, shape, this.strides, this.offset + start * this.strides[dim]!);
  }

  /** A detached tensor sharing this storage. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /** A contiguous detached copy with its own storage. @example Tensor.ones([2]).clone().sum() // 2 */
  clone(): Tensor {
    const c = this.contiguous();
    return Tensor.from(c.data.slice(), this.shape);
  }

  /** The element at the given indices. @example Tensor.from([1, 2, 3, 4], [2, 2]).get(0, 1) // 2 */
  get(...idx: number[]): number {
    if (idx.length !== this.ndim) throw invalidOption('indices', `${this.ndim} indices`, idx.length);
    let off = this.offset;
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.shape[i]!) throw invalidOption(`index ${i}`, `integer 0..${this.shape[i]! - 1}`, v);
      off += v * this.strides[i]!;
    }
    return hostData(this.storage)[off]!;
  }

  /** The single value of a one-element tensor. @throws UsageError otherwise */
  item(): number {
    if (this.size !== 1) throw invalidOption('tensor', 'a one-element tensor for item()', `${fmtShape(this.shape)}` as unknown);
    return this.contiguous().data[0]!;
  }

  /** Sum of all elements, in float64 (a plain number; not recorded). */
  sum(): number {
    const d = this.contiguous().data;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]!;
    return s;
  }

  /** The elements as a plain row-major array. */
  toArray(): number[] {
    return Array.from(this.contiguous().data);
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}${this.gradFn ? `, gradFn=${this.gradFn.op}` : ''}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
