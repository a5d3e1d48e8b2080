/**
 * QAT cells of the grid through ts/quant's `quantizeModel` (issue 9): the FP model's checkpoint bytes are
 * written to a temporary file, fine-tuned with the preset's QAT budget (frozen observer mode, the academic
 * variant: the defaults of ts/quant), and the q-checkpoint's bytes go to the store. The runner evaluates
 * the clean cell itself and applies the NC rule there, so QAT's own clean evaluation is skipped
 * (`testLimit: 0`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from '../data/types.ts';
import { quantizeModel } from '../quant/qat.ts';
import { checkpointBytes, type LoadedGridModel, type ProducedModel } from './models.ts';
import type { TrainBudget } from './presets.ts';

/** What one QAT cell needs. */
export interface QatRequest {
  /** the FP model (its checkpoint is written for ts/quant to load) */
  fp: LoadedGridModel & { checkpoint?: Uint8Array | null };
  fpBytes: Uint8Array;
  /** the FP model's id and config hash in the store (recorded instead of the temporary file) */
  fpId: string;
  fpHash: string;
  arch: string;
  method: string;
  bits: number;
  budget: TrainBudget;
  seed: number;
  dataset: Dataset;
  onStep: () => void;
}

/**
 * Fine-tunes one QAT cell.
 * @throws ts/quant's named errors for bad method / bits
 */
export async function quantizeForGrid(r: QatRequest): Promise<ProducedModel> {
  const dir = mkdtempSync(join(tmpdir(), 'qrobust-qat-'));
  try {
    const fpFile = join(dir, 'fp.safetensors');
    writeFileSync(fpFile, r.fpBytes);
    let last = 0;
    const res = await quantizeModel({
      fpCheckpoint: fpFile, method: r.method, bits: r.bits, epochs: r.budget.epochs, lr: r.budget.lr, batch: r.budget.batch,
      trainLimit: r.budget.trainLimit, testLimit: 0, seed: r.seed, dataset: r.dataset,
      onProgress: (p) => {
        if (p.phase !== 'train') return;
        for (; last < p.done; last++) r.onStep();
      },
    });
    // the FP checkpoint went through a temporary file: record the store's FP model instead of its random path,
    // so the same seed gives the same q-checkpoint bytes and the same records
    const fpName = `${r.fpId} (config ${r.fpHash}) in the result store`;
    const meta = res.meta.quant ? { ...res.meta, quant: { ...res.meta.quant, fp: { ...res.meta.quant.fp, checkpoint: fpName } } } : res.meta;
    const { versions: _v, ...rest } = res.record;
    const record = { ...rest, fp: { ...rest.fp, checkpoint: fpName } };
    const nc = res.nanAt !== null;
    return {
      model: res.model, inputSize: res.meta.inputSize, preprocess: res.meta.preprocess, numClasses: res.meta.numClasses,
      checkpoint: nc ? null : checkpointBytes(res.model, meta), record, nc,
      ncReason: nc ? String(record.ncReason ?? 'non-finite loss') : null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
