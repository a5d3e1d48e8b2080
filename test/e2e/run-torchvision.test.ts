/**
 * `run --preset paper-resnet18 --fp <torchvision resnet18>` (issue #13): a torchvision resnet18 with random weights and
 * non-trivial BN statistics (3 classes), written by Debian's /usr/bin/python3 torch at test time into a temp folder as
 * a state-dict safetensors, a float ONNX export with BN and parameter names kept, and the default (BN-folded) export;
 * a tiny imagefolder (train / val, 3 classes, 32 x 32 input). The conversion gives torch's logits; the QAT cells run
 * from the state dict and from the named ONNX; the folded export runs its FP cells and stops QAT with a named error;
 * a state dict of no architecture and one of another architecture than the grid's are named errors.
 * Skipped, with the reason, without python3-torch / torchvision / onnx.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Tensor } from '../../ts/tensor/tensor.ts';
import { noGrad } from '../../ts/autograd/index.ts';
import { openDataset } from '../../ts/data/index.ts';
import { decodeSafetensors, encodeSafetensors } from '../../ts/formats/safetensors.ts';
import { TorchvisionFpError, torchvisionFp } from '../../ts/runner/torchvision.ts';
import { writeJpeg } from '../unit/data/fixtures.ts';
import { cli, oneJson, oneLineError } from './cli.ts';

const PY = `
import json, os, sys
import torch, torchvision
out = sys.argv[1]
torch.manual_seed(7)
m = torchvision.models.resnet18(weights=None, num_classes=3)
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        with torch.no_grad():
            mod.weight.uniform_(0.5, 1.5); mod.bias.normal_(0, 0.1)
            mod.running_mean.normal_(0, 0.1); mod.running_var.uniform_(0.5, 2.0); mod.num_batches_tracked.fill_(7)
m.eval()
x = torch.rand(2, 3, 32, 32)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1); std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
with torch.no_grad():
    y = m((x - mean) / std)
x.numpy().astype('<f4').tofile(os.path.join(out, 'x.bin'))
y.numpy().astype('<f4').tofile(os.path.join(out, 'logits.bin'))
header, chunks, off = {'__metadata__': {'format': 'pt'}}, [], 0
for k, t in m.state_dict().items():
    t = t.contiguous()
    dt = {torch.float32: 'F32', torch.int64: 'I64'}[t.dtype]
    b = t.numpy().astype('<f4' if dt == 'F32' else '<i8').tobytes()
    header[k] = {'dtype': dt, 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
    chunks.append(b); off += len(b)
text = json.dumps(header, separators=(',', ':')).encode()
text += b' ' * ((8 - len(text) % 8) % 8)
with open(os.path.join(out, 'r18.safetensors'), 'wb') as f:
    f.write(len(text).to_bytes(8, 'little')); f.write(text)
    for c in chunks: f.write(c)
xn = torch.zeros(1, 3, 32, 32)
io = dict(input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
torch.onnx.export(m, xn, os.path.join(out, 'r18.bn.onnx'), do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, **io)
torch.onnx.export(m, xn, os.path.join(out, 'r18.onnx'), **io)
print(json.dumps({'torch': torch.__version__, 'torchvision': torchvision.__version__}))
`;

describe('e2e: qrobust run --preset paper-resnet18 --fp <torchvision resnet18> (tiny imagefolder, 32 x 32)', function () {
  this.timeout(1800000);
  let dir = '';
  let data = '';
  let why = '';

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'qrb-tv-'));
    const r = spawnSync('/usr/bin/python3', ['-c', PY, dir], { encoding: 'utf8', timeout: 300000, env: { ...process.env, OMP_NUM_THREADS: '2' } });
    if (r.status !== 0) {
      why = `the torchvision fixtures could not be generated (/usr/bin/python3 with python3-torch, torchvision and onnx needed): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    // train: 22 images a class (one QAT step at the preset's batch 64), val: 2 a class
    for (const [split, n] of [['train', 22], ['val', 2]] as const) {
      for (const c of ['ant', 'bee', 'cat']) for (let i = 0; i < n; i++) await writeJpeg(join(dir, 'data', split, c, `${i}.jpg`), i * 3 + c.charCodeAt(0), 40, 36);
    }
    data = `imagefolder:${join(dir, 'data')}`;
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const floats = (f: string) => new Float32Array(new Uint8Array(readFileSync(join(dir, f))).buffer);

  it("the state dict and the named ONNX export become our resnet18 with torch's logits; other architectures and folded exports are named", async () => {
    const ds = await openDataset(data);
    const x = Tensor.from(floats('x.bin'), [2, 3, 32, 32]);
    const ref = floats('logits.bin');
    for (const f of ['r18.safetensors', 'r18.bn.onnx']) {
      const tv = await torchvisionFp(new Uint8Array(readFileSync(join(dir, f))), join(dir, f), { dataset: ds, arch: 'resnet18', size: 32 });
      assert.deepEqual([tv.arch, tv.meta.numClasses, tv.meta.inputSize], ['resnet18', 3, 32]);
      const y = noGrad(() => tv.model.call(x)).toArray() as number[];
      const scale = Math.max(...Array.from(ref, Math.abs));
      const err = Math.max(...y.map((v, i) => Math.abs(v - ref[i]!))) / scale;
      assert.ok(err < 1e-4, `${f}: max relative logit error ${err}`);
    }
    const dflt = await torchvisionFp(new Uint8Array(readFileSync(join(dir, 'r18.safetensors'))), 'r18.safetensors', { dataset: ds });
    assert.equal(dflt.meta.inputSize, 224);
    await assert.rejects(torchvisionFp(new Uint8Array(readFileSync(join(dir, 'r18.bn.onnx'))), 'r18.bn.onnx', { dataset: ds, size: 64 }), /Expected 32 \(the input size fixed in r18\.bn\.onnx\) for --size but received 64/);
    await assert.rejects(torchvisionFp(new Uint8Array(readFileSync(join(dir, 'r18.onnx'))), 'r18.onnx', { dataset: ds }), /BatchNormalization the exporter folded .* do_constant_folding=False/);
    await assert.rejects(torchvisionFp(new Uint8Array(readFileSync(join(dir, 'r18.safetensors'))), 'r18.safetensors', { dataset: ds, arch: 'mobilenet_v2' }),
      (e: Error) => e instanceof TorchvisionFpError && /holds a torchvision resnet18, but the grid's architecture is mobilenet_v2/.test(e.message));
    const f = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'r18.safetensors'))));
    f.tensors.delete('layer4.1.conv2.weight');
    await assert.rejects(torchvisionFp(encodeSafetensors(f), 'broken.safetensors', { dataset: ds }),
      /--fp broken\.safetensors: expected a torchvision state dict of one of .* fit none; closest resnet18: missing layer4\.1\.conv2\.weight/);
  });

  it('paper-resnet18 with the state dict: the FP and the LSQ 8-bit cells run, the converted checkpoint stored', () => {
    const db = join(dir, 'a.db');
    const s = oneJson(cli(['run', '--preset', 'paper-resnet18', '--data', data, '--fp', join(dir, 'r18.safetensors'), '--size', '32', '--methods', 'lsq', '--bits', '8',
      '--suites', 'clean', '--test-limit', '6', '--store', db, '--json']));
    assert.deepEqual([s.cells_total, s.computed, s.models.trained], [2, 2, 2]);
    const d = new Database(db, { readonly: true });
    const fp = d.prepare("SELECT record FROM models WHERE id = 'resnet18/fp/32'").get() as { record: string };
    assert.equal(JSON.parse(fp.record).file_kind, 'torchvision-safetensors');
    const q = d.prepare("SELECT result FROM cells WHERE id = 'resnet18/lsq/8/clean/reference'").get() as { result: string };
    assert.equal(JSON.parse(q.result).n, 6);
    d.close();
    // resumed: nothing recomputed, the conversion gives the same configuration
    const again = oneJson(cli(['run', '--preset', 'paper-resnet18', '--data', data, '--fp', join(dir, 'r18.safetensors'), '--size', '32', '--methods', 'lsq', '--bits', '8',
      '--suites', 'clean', '--test-limit', '6', '--store', db, '--json']));
    assert.deepEqual([again.computed, again.reused], [0, 2]);
  });

  it('the ONNX export with BN names runs QAT too; the folded export runs its FP cells and stops QAT with a named error', () => {
    const b = oneJson(cli(['run', '--preset', 'paper-resnet18', '--data', data, '--fp', join(dir, 'r18.bn.onnx'), '--methods', 'lsq', '--bits', '8',
      '--suites', 'clean', '--test-limit', '6', '--store', join(dir, 'b.db'), '--json']));
    assert.deepEqual([b.cells_total, b.computed], [2, 2]);
    const c = join(dir, 'c.db');
    oneLineError(cli(['run', '--preset', 'paper-resnet18', '--data', data, '--fp', join(dir, 'r18.onnx'), '--methods', 'lsq', '--bits', '8',
      '--suites', 'clean', '--test-limit', '6', '--store', c, '--json']), 2, /^qrobust: Expected an FP model QAT can fine-tune for --fp .* but .*r18\.onnx is a float ONNX export whose BatchNormalization the exporter folded into the convolutions/);
    const d = new Database(c, { readonly: true });
    assert.deepEqual((d.prepare('SELECT id FROM cells').all() as { id: string }[]).map((r) => r.id), ['resnet18/fp/32/clean/reference']);
    d.close();
  });
});
