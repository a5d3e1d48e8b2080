/**
 * QAT smoke runs (issue 9 acceptance 3): mobilenet_v2 (depthwise convs) and regnetx_600mf (grouped convs) at
 * 32×32 on fashion-mnist, end to end: a few FP steps, `runQuantize` for a few QAT steps, the q-checkpoint
 * reloaded, and the integer export of every layer.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';
import { Tensor } from '../../../ts/tensor/tensor.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { Conv2d } from '../../../ts/nn/layers.ts';
import { openDataset, type Dataset } from '../../../ts/data/index.ts';
import { trainModel } from '../../../ts/train/loop.ts';
import { saveCheckpoint, loadCheckpoint } from '../../../ts/train/checkpoint.ts';
import { runQuantize, quantLayers, exportQuantParams } from '../../../ts/quant/index.ts';

const dir = join(repoRoot, 'test', '.generated', 'quant-smoke');

describe('quant: QAT smoke on mobilenet_v2 and regnetx_600mf (depthwise and grouped convs)', function () {
  this.timeout(600000);
  let ds: Dataset;
  before(async () => {
    setQuiet(true);
    mkdirSync(dir, { recursive: true });
    ds = await openDataset('fashion-mnist');
  });
  after(() => setQuiet(false));

  for (const [arch, runs, grouped] of [
    ['mobilenet_v2', [['lsq', 4], ['dorefa', 2]], 17],
    ['regnetx_600mf', [['pact', 4]], 16],
  ] as const) {
    it(`${arch}: FP steps, then ${runs.map(([m, b]) => `${m}-${b}`).join(' and ')} QAT steps; reload and export`, async () => {
      const fp = join(dir, `${arch}-fp.safetensors`);
      const r = await trainModel({ arch, data: 'fashion-mnist', batch: 16, trainLimit: 32, epochs: 1, lr: 0.01, testLimit: 0, seed: 2 }, { dataset: ds });
      assert.equal(r.nc, false);
      saveCheckpoint(fp, r.model, r.meta);
      for (const [method, bits] of runs) {
        const out = join(dir, `${arch}-${method}-${bits}.safetensors`);
        const rec = await runQuantize({ fpCheckpoint: fp, dataset: ds, method, bits, epochs: 1, trainLimit: 48, batch: 16, testLimit: 16, seed: 1, out, calibrationBatches: 1, fpTop1: 50 });
        assert.equal(rec.steps, 3);
        assert.ok(rec.history.every((h) => Number.isFinite(h.loss)), 'finite QAT loss');
        assert.equal(rec.test!.n, 16);
        const { model, meta } = loadCheckpoint(out);
        assert.equal(meta.arch, arch);
        assert.equal(meta.quant!.config.method, method);
        const ls = quantLayers(model);
        const groupedLayers = ls.filter((l) => l.module instanceof Conv2d && (l.module.opts.groups ?? 1) > 1);
        assert.equal(groupedLayers.length, grouped, `${arch}: depthwise / grouped convs are quantized`);
        assert.ok(ls[0]!.first && ls[0]!.bits === 8 && ls[ls.length - 1]!.last && ls[ls.length - 1]!.kind === 'linear');
        assert.ok(ls.slice(1, -1).every((l) => l.bits === bits));
        const x = Tensor.rand([2, 3, 32, 32], new Rng(3));
        const z = ag.noGrad(() => model.call(x)).toArray();
        assert.ok(z.every(Number.isFinite));
        assert.deepEqual(ag.noGrad(() => loadCheckpoint(out).model.call(x)).toArray(), z, 'same logits after reload');
        const ps = exportQuantParams(model);
        for (const p of ps.filter((q) => q.conv && q.conv.groups > 1)) {
          assert.equal(p.weight.shape[1], arch === 'mobilenet_v2' ? 1 : 24, `${p.name}: channels per group`);
          assert.ok([...p.weight.int].every((k) => k >= p.weight.qmin && k <= p.weight.qmax));
        }
      }
    });
  }
});
