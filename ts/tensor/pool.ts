/**
 * Recycling of large float buffers between the tape and the kernels' outputs.
 *
 * A training step allocates hundreds of MB of activation and gradient buffers; fresh ones cost
 * page faults, V8 external-memory garbage collections and cold caches. The tape knows when an
 * intermediate gradient is dead (its node has run and no other gradient entry shares the storage),
 * and gives such buffers back here when they were allocated during that backward pass (see
 * ts/autograd/graph.ts); {@link Tensor.empty} takes them first. Nothing else gives buffers back,
 * so a buffer reachable from user code is never handed out twice.
 *
 * The pool holds at most {@link setBufferPoolLimit} bytes (512 MiB by default; 0 turns recycling
 * off); buffers beyond that are left to the GC.
 */
import type { Storage } from './storage.ts';

let limit = 512 * 1024 * 1024;

const free = new Map<number, Float32Array[]>();
let held = 0;
let births: WeakSet<Storage> | null = null;

/** A recycled buffer of exactly `n` elements (contents unspecified), or null. */
export function takeBuffer(n: number): Float32Array | null {
  const list = free.get(n);
  const a = list?.pop();
  if (!a) return null;
  held -= a.byteLength;
  return a;
}

/** Gives a dead buffer back (dropped when the pool is full). */
export function giveBuffer(a: Float32Array): void {
  if (held + a.byteLength > limit) return;
  let list = free.get(a.length);
  if (!list) free.set(a.length, (list = []));
  list.push(a);
  held += a.byteLength;
}

/**
 * Sets the most bytes the pool keeps (LIFO per element count; 0 disables recycling) and returns the
 * previous limit. Lowering it empties the pool.
 * @throws RangeError on a negative or non-finite limit
 */
export function setBufferPoolLimit(bytes: number): number {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new RangeError(`setBufferPoolLimit: expected bytes >= 0 but received ${bytes}`);
  const prev = limit;
  limit = bytes;
  if (bytes < prev) clearBufferPool();
  return prev;
}

/** Bytes currently held (tests and diagnostics). */
export function pooledBytes(): number {
  return held;
}

/** Empties the pool (the buffers go to the GC). */
export function clearBufferPool(): void {
  free.clear();
  held = 0;
}

/**
 * While `fn` runs, storages created by {@link Tensor.empty} are recorded in `set` (the tape
 * recycles only buffers born during its own backward pass). Nested calls keep the outer set.
 */
export function trackBirths<T>(set: WeakSet<Storage>, fn: () => T): T {
  if (births) return fn();
  births = set;
  try {
    return fn();
  } finally {
    births = null;
  }
}

/** Records a storage created while births are tracked. */
export function noteBirth(s: Storage): void {
  births?.add(s);
}
