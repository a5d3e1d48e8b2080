import { strict as assert } from 'node:assert';
import { checkRunTargets, gridModels, modelCells, parseShard, shardModels, UnknownRunTargetError, type GridSpec } from '../../../ts/runner/grid.ts';
import { getPreset, budgetLines, PRESET_NAMES } from '../../../ts/runner/presets.ts';
import { presetFromFlags } from '../../../ts/cli/run.ts';
import { suiteBudget } from '../../../ts/runner/suites.ts';

const G: GridSpec = { archs: ['resnet20'], methods: ['dorefa', 'pact', 'lsq'], bits: [2, 4, 6, 8], suites: ['clean', 'adversarial', 'corruption', 'systematic'], targets: ['reference'] };

describe('runner: grid, shards, presets', () => {
  it('the demo grid: FP + 12 QAT models, 4 suites each, ids as documented', () => {
    const ms = gridModels(G);
    assert.equal(ms.length, 13);
    assert.equal(ms[0]!.id, 'resnet20/fp/32');
    assert.equal(ms[12]!.id, 'resnet20/lsq/8');
    const cells = ms.flatMap((m) => modelCells(m, G));
    assert.equal(cells.length, 52);
    assert.equal(new Set(cells.map((c) => c.id)).size, 52);
    assert.equal(cells[1]!.id, 'resnet20/fp/32/adversarial/reference');
  });

  it('shards partition the model lines: every line in exactly one shard', () => {
    const ms = gridModels(G);
    for (const n of [1, 2, 3, 5, 13, 20]) {
      const seen = new Map<string, number>();
      for (let i = 1; i <= n; i++) for (const m of shardModels(ms, parseShard(`${i}/${n}`))) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
      assert.equal(seen.size, 13);
      assert.ok([...seen.values()].every((v) => v === 1));
    }
  });

  it('targets: every cell per target, ids <model>/<suite>/<target>, whole lines per shard; unknown ids named', () => {
    const g: GridSpec = { ...G, methods: ['lsq'], bits: [2, 8], targets: ['reference', 'rpi5-tflite'] };
    const ms = gridModels(g);
    const cells = ms.flatMap((m) => modelCells(m, g));
    assert.equal(cells.length, 3 * 4 * 2);
    assert.deepEqual(modelCells(ms[1]!, g).slice(0, 2).map((c) => c.id), ['resnet20/lsq/2/clean/reference', 'resnet20/lsq/2/clean/rpi5-tflite']);
    const byShard = [1, 2].map((i) => shardModels(ms, parseShard(`${i}/2`)).flatMap((m) => modelCells(m, g)).map((c) => c.id));
    assert.equal(byShard[0]!.length + byShard[1]!.length, cells.length);
    assert.ok(byShard[0]!.every((id) => !byShard[1]!.includes(id)));
    // a line's target cells stay with it
    assert.ok(byShard[1]!.includes('resnet20/lsq/2/systematic/rpi5-tflite') && byShard[1]!.includes('resnet20/lsq/2/systematic/reference'));
    assert.deepEqual(checkRunTargets(['reference', 'x86-onnxruntime', 'reference']), ['reference', 'x86-onnxruntime']);
    assert.throws(() => checkRunTargets(['reference', 'rpi9']), (e: Error) => e instanceof UnknownRunTargetError && /^Expected target ids among reference, x86-onnxruntime, rpi4-tflite, .*jetson-nano-fp16.* for --targets but received 'rpi9'$/.test(e.message));
    assert.throws(() => checkRunTargets(['targets/rpi5-tflite.json']), UnknownRunTargetError);
    const { preset } = presetFromFlags({ preset: 'smoke', store: 'x.db', targets: 'reference,jetson-nano-fp16' });
    assert.deepEqual(preset.targets, ['reference', 'jetson-nano-fp16']);
    assert.throws(() => presetFromFlags({ preset: 'smoke', store: 'x.db', targets: 'reference,rpi9' }), /for --targets but received 'rpi9'/);
  });

  it('--shard errors name the flag, the rule and the value', () => {
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0']) assert.throws(() => parseShard(bad), /Expected i\/n with 1 <= i <= n .* for --shard but received/);
    assert.deepEqual(parseShard(undefined), { index: 1, count: 1 });
  });

  it('presets: names, budgets printed per suite, unknown preset named', () => {
    assert.deepEqual(PRESET_NAMES, ['smoke', 'demo', 'paper-resnet18']);
    const d = getPreset('demo');
    assert.equal(d.methods.length * d.bits.length, 12);
    const lines = budgetLines(d);
    assert.match(lines[1]!, /^adversarial: .*aa-demo/);
    // demo: the FP model is attacked on 32 images at three tiers, each quantized model on 16 at the small tier
    assert.deepEqual([suiteBudget('adversarial', d.budgets, false).testLimit, suiteBudget('adversarial', d.budgets, false).tiers], [32, ['small', 'middle', 'large']]);
    assert.deepEqual([suiteBudget('adversarial', d.budgets, true).testLimit, suiteBudget('adversarial', d.budgets, true).tiers], [16, ['small']]);
    assert.throws(() => getPreset('fast'), /Expected one of smoke, demo, paper-resnet18 for --preset but received 'fast'/);
  });

  it('flags narrow a preset; paper-resnet18 validates its inputs by name', () => {
    const { preset } = presetFromFlags({ preset: 'demo', store: 'x.db', methods: 'lsq', bits: '8,2', suites: 'clean,systematic', seed: '7', testLimit: '50' });
    assert.deepEqual(preset.methods, ['lsq']);
    assert.deepEqual(preset.bits, [2, 8]);
    assert.deepEqual(preset.suites, ['clean', 'systematic']);
    assert.equal(preset.seed, 7);
    assert.equal(preset.budgets.adversarial.testLimit, 50);
    assert.throws(() => presetFromFlags({ preset: 'demo', store: 'x.db', bits: '3' }), /for --bits/);
    assert.throws(() => presetFromFlags({ preset: 'demo', store: 'x.db', targets: 'rpi9' }), /for --targets/);
    assert.throws(() => presetFromFlags({ preset: 'paper-resnet18', store: 'x.db' }), /Expected --data imagefolder:<ImageNet dir>/);
    assert.throws(() => presetFromFlags({ preset: 'paper-resnet18', store: 'x.db', data: 'fashion-mnist' }), /Expected an imagefolder:<ImageNet dir> \(paper-resnet18 runs on ImageNet\) for --data but received 'fashion-mnist'/);
    assert.throws(() => presetFromFlags({ preset: 'paper-resnet18', store: 'x.db', data: 'imagefolder:/tmp' }), /Expected the FP resnet18 for --fp/);
    assert.throws(() => presetFromFlags({ preset: 'demo', store: 'x.db', fp: '/nonexistent/r18.safetensors' }), /Expected an existing FP checkpoint .* for --fp but received '\/nonexistent\/r18.safetensors'/);
  });
});
