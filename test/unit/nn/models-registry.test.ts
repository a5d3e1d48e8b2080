// The model registry and the architectures: torchvision's parameter counts, names and state-dict layout,
// forward shapes at small inputs and other class counts, the name converters, and named errors.
import assert from 'node:assert/strict';
import { Tensor } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import type { Module } from '../../../ts/nn/module.ts';
import { Linear } from '../../../ts/nn/index.ts';
import { ARCHS, createModel, isArch, loadReferenceWeights, modelSpec, UnknownArchError, mobilenetV2FromMqbench, regnetFromTorchvision } from '../../../ts/nn/models/index.ts';

describe('nn/models registry', () => {
  // built once: construction of the ImageNet models takes seconds on the shared box
  const built = new Map<string, Module>();
  const model = (arch: string): Module => {
    if (!built.has(arch)) built.set(arch, createModel(arch));
    return built.get(arch)!;
  };

  it('parameter counts equal torchvision\'s at 1000 classes', () => {
    // torchvision 0.14: resnet18, resnet50, mobilenet_v2, RegNet(BlockParams([1,3,5,7], [48,96,240,528], [24]*4, [1.0]*4, [2]*4), 32)
    const want: Record<string, number> = { resnet18: 11689512, resnet50: 25557032, mobilenet_v2: 3504872, regnetx_600mf: 6196040 };
    for (const [arch, n] of Object.entries(want)) assert.equal(model(arch).numParameters(), n, arch);
    assert.equal(model('resnet20').numParameters(), 272474);
  });

  it('uses the reference names and state-dict order', () => {
    const r50 = [...model('resnet50').stateDict().keys()];
    assert.deepEqual(r50.slice(0, 4), ['normalize.mean', 'normalize.std', 'conv1.weight', 'bn1.weight']);
    assert.ok(r50.includes('layer3.5.conv3.weight') && r50.includes('layer4.0.downsample.1.running_var') && !r50.includes('layer1.1.downsample.0.weight'));
    assert.equal(r50.at(-1), 'fc.bias');
    const mb = [...model('mobilenet_v2').stateDict().keys()];
    for (const k of ['features.0.0.weight', 'features.0.1.running_mean', 'features.1.conv.0.0.weight', 'features.1.conv.1.weight', 'features.1.conv.2.running_var', 'features.2.conv.0.0.weight', 'features.2.conv.1.0.weight', 'features.2.conv.2.weight', 'features.2.conv.3.bias', 'features.17.conv.3.weight', 'features.18.0.weight', 'features.18.1.num_batches_tracked', 'classifier.1.weight']) assert.ok(mb.includes(k), k);
    assert.ok(!mb.includes('features.19.0.weight'));
    const rg = [...model('regnetx_600mf').stateDict().keys()];
    assert.deepEqual(rg.slice(2, 4), ['stem.conv.weight', 'stem.bn.weight']);
    for (const k of ['s1.b1.proj.weight', 's1.b1.bn.running_var', 's1.b1.f.a.weight', 's1.b1.f.b_bn.bias', 's4.b7.f.c_bn.weight', 'head.fc.weight']) assert.ok(rg.includes(k), k);
    assert.ok(!rg.includes('s1.b2.proj.weight') && !rg.includes('s2.b2.proj.weight'));
    // grouped 3x3: 528 / 24 = 22 groups -> weight [528, 24, 3, 3]
    assert.deepEqual(model('regnetx_600mf').stateDict().get('s4.b3.f.b.weight')!.shape, [528, 24, 3, 3]);
  });

  it('runs every architecture at a small input with another class count, train and eval', () => {
    const x = Tensor.rand([2, 3, 32, 32], new Rng(1));
    for (const arch of ARCHS) {
      const m = model(arch).train();
      const y = ag.noGrad(() => m.call(x));
      assert.deepEqual(y.shape, [2, arch === 'resnet20' ? 10 : 1000], arch);
      assert.ok(y.toArray().every(Number.isFinite), arch);
      const ye = ag.noGrad(() => m.eval().call(x));
      assert.ok(ye.toArray().every(Number.isFinite), arch);
      assert.equal(modelSpec(m)!.arch, arch);
    }
    assert.deepEqual(ag.noGrad(() => createModel('regnetx_600mf', { numClasses: 7, inputSize: 32 }).call(x)).shape, [2, 7]);
    assert.deepEqual(ag.noGrad(() => createModel('mobilenet_v2', { numClasses: 3 }).eval().call(Tensor.rand([1, 3, 40, 56], new Rng(2)))).shape, [1, 3]);
  });

  it('gradients reach every mobilenet_v2 / regnet parameter and the input (eval mode)', () => {
    // NOTE: in training mode a bias followed only by linear layers and a batch-statistics BN gets an exactly
    // zero gradient in theory (BN removes the mean), so this runs in eval mode.
    for (const arch of ['mobilenet_v2', 'regnetx_600mf']) {
      const m = createModel(arch, { numClasses: 4, seed: 5, dropout: 0 }).eval();
      const x = ag.param(Tensor.rand([2, 3, 32, 32], new Rng(4)));
      ag.backward(ag.crossEntropy(m.call(x), [1, 3]));
      for (const [n, p] of m.namedParameters()) assert.ok(p.grad && p.grad.toArray().some((v) => v !== 0), `${arch} ${n}`);
      assert.ok(x.grad!.toArray().some((v) => v !== 0));
    }
  });

  it('is seeded: same seed, same weights; another seed, others', () => {
    const a = createModel('regnetx_600mf', { seed: 1 }).stateDict().get('s2.b1.f.b.weight')!.toArray();
    assert.deepEqual(createModel('regnetx_600mf', { seed: 1 }).stateDict().get('s2.b1.f.b.weight')!.toArray(), a);
    assert.notDeepEqual(createModel('regnetx_600mf', { seed: 2 }).stateDict().get('s2.b1.f.b.weight')!.toArray(), a);
  });

  it('converts torchvision regnet and MQBench mobilenet_v2 names', () => {
    const tv = new Map([['stem.0.weight', 1], ['stem.1.running_mean', 2], ['trunk_output.block1.block1-0.proj.0.weight', 3], ['trunk_output.block1.block1-0.proj.1.bias', 4], ['trunk_output.block3.block3-4.f.a.0.weight', 5], ['trunk_output.block3.block3-4.f.c.1.running_var', 6], ['fc.bias', 7]]);
    assert.deepEqual([...regnetFromTorchvision(tv).keys()], ['stem.conv.weight', 'stem.bn.running_mean', 's1.b1.proj.weight', 's1.b1.bn.bias', 's3.b5.f.a.weight', 's3.b5.f.c_bn.running_var', 'head.fc.bias']);
    const own = new Set(model('regnetx_600mf').stateDict().keys());
    for (const k of regnetFromTorchvision(tv).keys()) assert.ok(own.has(k), k);
    const mq = new Map([['features.1.conv.3.weight', 1], ['features.1.conv.4.bias', 2], ['features.5.conv.4.weight', 3], ['features.5.conv.7.running_mean', 4], ['features.18.0.weight', 5], ['classifier.1.weight', 6]]);
    assert.deepEqual([...mobilenetV2FromMqbench(mq).keys()], ['features.1.conv.1.weight', 'features.1.conv.2.bias', 'features.5.conv.1.1.weight', 'features.5.conv.3.running_mean', 'features.18.0.weight', 'classifier.1.weight']);
  });

  it('loadReferenceWeights: MQBench mobilenet_v2 names and DataParallel prefixes load; gaps and extras are named', () => {
    const src = createModel('mobilenet_v2', { numClasses: 5, seed: 1 });
    const inv: Record<string, string> = { '0.0': '0', '0.1': '1', '1.0': '3', '1.1': '4', 2: '6', 3: '7' };
    const invT1: Record<string, string> = { '0.0': '0', '0.1': '1', 1: '3', 2: '4' };
    const mq = new Map<string, Tensor>();
    for (const [k, v] of src.stateDict()) {
      if (k.startsWith('normalize.')) continue;
      const m = /^features\.(\d+)\.conv\.(\d+(?:\.\d)?)\.(\w+)$/.exec(k);
      const name = m ? `features.${m[1]}.conv.${(m[1] === '1' ? invT1 : inv)[m[2]!]}.${m[3]}` : k;
      mq.set(`module.${name}`, v);
    }
    assert.ok(mq.has('module.features.2.conv.6.weight'));
    const dst = createModel('mobilenet_v2', { numClasses: 5, seed: 2 });
    assert.equal(loadReferenceWeights(dst, mq).length, mq.size);
    assert.deepEqual(dst.stateDict().get('features.5.conv.1.0.weight')!.toArray(), src.stateDict().get('features.5.conv.1.0.weight')!.toArray());
    const partial = new Map([...mq].slice(1));
    assert.throws(() => loadReferenceWeights(dst, partial), /mobilenet_v2 needs 'features.0.0.weight'/);
    assert.throws(() => loadReferenceWeights(dst, new Map([...mq, ['extra.weight', Tensor.zeros([1])]])), /unexpected entry 'extra.weight'/);
    assert.throws(() => loadReferenceWeights(new Linear(2, 2, new Rng(0)), mq), /a model built by createModel/);
  });

  it('names bad input', () => {
    assert.throws(() => createModel('vgg16'), (e: unknown) => e instanceof UnknownArchError && e instanceof UsageError && /Expected one of resnet18, resnet50, mobilenet_v2, regnetx_600mf, resnet20 for arch but received 'vgg16'/.test(e.message));
    assert.throws(() => createModel('resnet50', { numClasses: 1 }), /numClasses/);
    assert.throws(() => createModel('resnet18', { inputSize: 4 }), /inputSize/);
    assert.throws(() => createModel('mobilenet_v2', { inChannels: 1 }), /inChannels/);
    assert.throws(() => createModel('mobilenet_v2', { dropout: 1 }), /dropout/);
    assert.equal(createModel('resnet20', { inChannels: 1 }).call(Tensor.zeros([2, 1, 16, 16])).shape[1], 10);
    assert.ok(isArch('regnetx_600mf') && !isArch('regnet'));
  });
});
