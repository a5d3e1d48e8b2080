/**
 * regnetx_600mf as pycls / MQBench build it (PROTOCOL.md §5): stem 3×3/2 conv of 32 channels + BN + ReLU, four
 * stages of [1, 3, 5, 7] X blocks with widths [48, 96, 240, 528], group width 24 (groups [2, 4, 10, 22]),
 * bottleneck 1.0, no SE, stride 2 at each stage's first block, mean pooling and a linear head. An X block is
 * 1×1 (a) → 3×3 grouped with the stride (b) → 1×1 (c), BN after each (ReLU after a and b), plus the input, or a
 * 1×1/stride conv + BN projection of it when the shape changes; ReLU after the sum.
 *
 * Names are pycls / MQBench's: `stem.{conv,bn}`, `s{i}.b{j}.{proj,bn}`, `s{i}.b{j}.f.{a,a_bn,b,b_bn,c,c_bn}`,
 * `head.fc`, after `normalize.{mean,std}` (ImageNet statistics by default). torchvision's names (its
 * `RegNet(BlockParams(...), stem_width=32)`) convert with {@link regnetFromTorchvision}. Any input size and class
 * count; 6,196,040 parameters at 1000 classes. Init as pycls: kaiming_normal(fan_out) convs, N(0, 0.01) head.
 */
import { Rng } from '../../util/rng.ts';
import { Tensor } from '../../tensor/tensor.ts';
import * as ag from '../../autograd/index.ts';
import { Module } from '../module.ts';
import { BatchNorm2d, Conv2d, Linear, Normalize } from '../layers.ts';
import { checkClasses, IMAGENET_MEAN, IMAGENET_STD, initTorchvision } from './common.ts';

/** The stages of regnetx_600mf (derived from WA 36.97, W0 48, WM 2.24, depth 16, group width 24; PROTOCOL.md §5). */
export const REGNETX_600MF = { stemWidth: 32, depths: [1, 3, 5, 7], widths: [48, 96, 240, 528], groupWidth: 24 } as const;

/** pycls' stem: 3×3/2 conv, BN, ReLU. */
export class RegNetStem extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(cout: number, rng: Rng) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(3, cout, 3, { stride: 2, padding: 1, bias: false }, rng));
    this.bn = this.registerModule('bn', new BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    return ag.relu(this.bn.call(this.conv.call(x)));
  }
}

/** pycls' BottleneckTransform (children a, a_bn, b, b_bn, c, c_bn). */
export class BottleneckTransform extends Module {
  readonly a: Conv2d;
  readonly a_bn: BatchNorm2d;
  readonly b: Conv2d;
  readonly b_bn: BatchNorm2d;
  readonly c: Conv2d;
  readonly c_bn: BatchNorm2d;
  constructor(win: number, wout: number, stride: number, groupWidth: number, rng: Rng) {
    super();
    const wb = wout;
    this.a = this.registerModule('a', new Conv2d(win, wb, 1, { bias: false }, rng));
    this.a_bn = this.registerModule('a_bn', new BatchNorm2d(wb));
    this.b = this.registerModule('b', new Conv2d(wb, wb, 3, { stride, padding: 1, groups: wb / groupWidth, bias: false }, rng));
    this.b_bn = this.registerModule('b_bn', new BatchNorm2d(wb));
    this.c = this.registerModule('c', new Conv2d(wb, wout, 1, { bias: false }, rng));
    this.c_bn = this.registerModule('c_bn', new BatchNorm2d(wout));
  }
  forward(x: Tensor): Tensor {
    const h = ag.relu(this.a_bn.call(this.a.call(x)));
    return this.c_bn.call(this.c.call(ag.relu(this.b_bn.call(this.b.call(h)))));
  }
}

/** pycls' ResBottleneckBlock (children proj, bn when projecting, then f). */
export class ResBottleneckBlock extends Module {
  readonly proj: Conv2d | null = null;
  readonly bn: BatchNorm2d | null = null;
  readonly f: BottleneckTransform;
  constructor(win: number, wout: number, stride: number, groupWidth: number, rng: Rng) {
    super();
    if (win !== wout || stride !== 1) {
      this.proj = this.registerModule('proj', new Conv2d(win, wout, 1, { stride, bias: false }, rng));
      this.bn = this.registerModule('bn', new BatchNorm2d(wout));
    }
    this.f = this.registerModule('f', new BottleneckTransform(win, wout, stride, groupWidth, rng));
  }
  forward(x: Tensor): Tensor {
    const sc = this.proj ? this.bn!.call(this.proj.call(x)) : x;
    return ag.relu(ag.add(sc, this.f.call(x)));
  }
}

/** A stage: blocks b1..bN. */
export class RegNetStage extends Module {
  readonly blocks: ResBottleneckBlock[] = [];
  constructor(win: number, wout: number, depth: number, groupWidth: number, rng: Rng) {
    super();
    for (let j = 0; j < depth; j++) this.blocks.push(this.registerModule(`b${j + 1}`, new ResBottleneckBlock(j === 0 ? win : wout, wout, j === 0 ? 2 : 1, groupWidth, rng)));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.blocks) h = b.call(h);
    return h;
  }
}

/** pycls' AnyHead: mean pooling, fc. */
export class RegNetHead extends Module {
  readonly fc: Linear;
  constructor(win: number, numClasses: number, rng: Rng) {
    super();
    this.fc = this.registerModule('fc', new Linear(win, numClasses, rng));
  }
  forward(x: Tensor): Tensor {
    return this.fc.call(ag.flatten(ag.globalAvgPool2d(x)));
  }
}

export interface RegNetX600MFConfig {
  /** Default 1000. */
  numClasses?: number;
  /** Per-channel normalisation of [0, 1] RGB inputs; default ImageNet's. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Seed of the initialisation; default 0. */
  seed?: number;
}

export class RegNetX600MF extends Module {
  readonly normalize: Normalize;
  readonly stem: RegNetStem;
  readonly stages: RegNetStage[] = [];
  readonly head: RegNetHead;
  constructor(cfg: RegNetX600MFConfig = {}) {
    super();
    const numClasses = checkClasses(cfg.numClasses ?? 1000);
    const rng = new Rng(cfg.seed ?? 0);
    const { stemWidth, depths, widths, groupWidth } = REGNETX_600MF;
    this.normalize = this.registerModule('normalize', new Normalize(cfg.mean ?? IMAGENET_MEAN, cfg.std ?? IMAGENET_STD));
    this.stem = this.registerModule('stem', new RegNetStem(stemWidth, rng));
    let win: number = stemWidth;
    depths.forEach((d, i) => {
      this.stages.push(this.registerModule(`s${i + 1}`, new RegNetStage(win, widths[i]!, d, groupWidth, rng)));
      win = widths[i]!;
    });
    this.head = this.registerModule('head', new RegNetHead(win, numClasses, rng));
    initTorchvision(this, rng);
  }
  forward(x: Tensor): Tensor {
    let h = this.stem.call(this.normalize.call(x));
    for (const s of this.stages) h = s.call(h);
    return this.head.call(h);
  }
}

/**
 * Builds regnetx_600mf.
 * @param cfg class count, normalisation, seed
 * @throws UsageError on a bad class count
 * @example
 * regnetX600MF().numParameters() // 6196040
 */
export function regnetX600MF(cfg: RegNetX600MFConfig = {}): RegNetX600MF {
  return new RegNetX600MF(cfg);
}

/**
 * Renames a torchvision RegNet state dict to pycls / MQBench names (PROTOCOL.md §5): `stem.0/1` → `stem.conv/bn`,
 * `trunk_output.block{i}.block{i}-{j}.proj.0/1` → `s{i}.b{j+1}.proj/bn`, `….f.{a,b,c}.0/1` → `….f.{a,b,c}` /
 * `….f.{a,b,c}_bn`, `fc` → `head.fc`. Other names pass unchanged.
 * @param state torchvision names → tensors
 * @returns a new map with pycls names, same order
 * @throws never
 * @example
 * [...regnetFromTorchvision(new Map([['trunk_output.block2.block2-0.f.b.1.weight', t]])).keys()] // ['s2.b1.f.b_bn.weight']
 */
export function regnetFromTorchvision<T>(state: Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [k, v] of state) {
    let n = k;
    let m: RegExpExecArray | null;
    if ((m = /^stem\.([01])\.(.*)$/.exec(k))) n = `stem.${m[1] === '0' ? 'conv' : 'bn'}.${m[2]}`;
    else if ((m = /^fc\.(.*)$/.exec(k))) n = `head.fc.${m[1]}`;
    else if ((m = /^trunk_output\.block(\d+)\.block\d+-(\d+)\.(.*)$/.exec(k))) {
      const pre = `s${m[1]}.b${Number(m[2]) + 1}`;
      const rest = m[3]!;
      let r: RegExpExecArray | null;
      if ((r = /^proj\.([01])\.(.*)$/.exec(rest))) n = `${pre}.${r[1] === '0' ? 'proj' : 'bn'}.${r[2]}`;
      else if ((r = /^f\.([abc])\.([01])\.(.*)$/.exec(rest))) n = `${pre}.f.${r[1]}${r[2] === '0' ? '' : '_bn'}.${r[3]}`;
      else n = `${pre}.${rest}`;
    }
    out.set(n, v);
  }
  return out;
}
