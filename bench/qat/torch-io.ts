/**
 * Hands a model's state and a batch to the torch side of the QAT parity test and benchmark
 * (bench/qat/qat_step_torch.py): `state.bin` (all state-dict tensors, float32, concatenated) with `state.json`
 * ({ entries: name → [offset, count, shape], ...extra }), and `batch.bin` (x, then the labels as float32).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../ts/tensor/tensor.ts';

/**
 * Writes `state.bin` / `state.json` into `dir`.
 * @param dir an existing folder
 * @param state the state dict (name → tensor)
 * @param extra more fields of state.json (classes, batch, size, lr, threads)
 */
export function writeTorchState(dir: string, state: Map<string, Tensor>, extra: Record<string, unknown>): void {
  const entries: Record<string, [number, number, number[]]> = {};
  let off = 0;
  for (const [k, t] of state) {
    entries[k] = [off, t.size, [...t.shape]];
    off += t.size;
  }
  const blob = new Float32Array(off);
  for (const [k, t] of state) blob.set(t.contiguous().data, entries[k]![0]);
  writeFileSync(join(dir, 'state.bin'), Buffer.from(blob.buffer));
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ entries, ...extra }));
}

/** Writes `batch.bin`: the images, then the labels, as float32. */
export function writeTorchBatch(dir: string, x: Tensor, labels: readonly number[]): void {
  const xb = new Float32Array(x.size + labels.length);
  xb.set(x.contiguous().data);
  xb.set(labels, x.size);
  writeFileSync(join(dir, 'batch.bin'), Buffer.from(xb.buffer));
}
