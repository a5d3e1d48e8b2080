/**
 * Where a tensor's numbers live. Today only host memory (a Float32Array) exists; the `kind` tag is
 * the extension point for device memory (the CUDA issue): code that needs the numbers on the host
 * asks {@link hostData}, which names the storage kind when it cannot give them.
 */
import { QrobustError } from '../util/errors.ts';

/** The storage contract. Device kinds will add their own members; `length` counts elements. */
export interface Storage {
  readonly kind: 'host';
  readonly length: number;
}

/** Host storage: a Float32Array owned (or shared, when wrapped zero-copy) by the tensors viewing it. */
export class HostStorage implements Storage {
  readonly kind = 'host' as const;
  readonly data: Float32Array;
  /** @param data the elements; kept by reference (zero-copy) */
  constructor(data: Float32Array) {
    this.data = data;
  }
  get length(): number {
    return this.data.length;
  }
}

/**
 * The Float32Array behind a host storage.
 * @throws QrobustError when the storage is not host memory
 * @example
 * hostData(new HostStorage(new Float32Array(3))).length // 3
 */
export function hostData(s: Storage): Float32Array {
  if (s instanceof HostStorage) return s.data;
  throw new QrobustError(`tensor storage of kind '${String((s as Storage).kind)}' is not host memory; copy it to the host first`);
}
