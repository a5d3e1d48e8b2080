/**
 * mobilenet_v2 as torchvision builds it (PROTOCOL.md §5): a 3×3/2 stem of 32 channels, 17 inverted residual
 * blocks with (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1),
 * a 1×1 conv to 1280, ReLU6 throughout, mean pooling and classifier = [Dropout, Linear]. A block adds its input
 * when the stride is 1 and the channels stay.
 *
 * Names are torchvision's: `features.0.{0,1}`, `features.N.conv.{0.0, 0.1, 1.0, 1.1, 2, 3}` (expanding blocks),
 * `features.1.conv.{0.0, 0.1, 1, 2}` (t = 1), `features.18.{0,1}`, `classifier.1`, after `normalize.{mean,std}`
 * (ImageNet statistics by default). torchvision state dicts load with `loadStateDict(state, false)`; MQBench's
 * flat names convert with {@link mobilenetV2FromMqbench}. Any input size and class count; 3,504,872 parameters at
 * 1000 classes. Init as torchvision (kaiming_normal fan_out convs, N(0, 0.01) classifier).
 */
import { Rng } from '../../util/rng.ts';
import { Tensor } from '../../tensor/tensor.ts';
import * as ag from '../../autograd/index.ts';
import { Module } from '../module.ts';
import { BatchNorm2d, Conv2d, Dropout, Linear, Normalize, Sequential } from '../layers.ts';
import { checkClasses, ConvBNAct, IMAGENET_MEAN, IMAGENET_STD, initTorchvision } from './common.ts';
import { invalidOption } from '../../util/errors.ts';

/** (expansion t, channels c, repeats n, first stride s) of torchvision's mobilenet_v2. */
export const MOBILENET_V2_SETTINGS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/** Inverted residual: [1×1 expand ReLU6] → 3×3 depthwise (stride) ReLU6 → 1×1 project (linear), + input if shapes match. */
export class InvertedResidual extends Module {
  readonly conv: Sequential;
  readonly useResidual: boolean;
  constructor(inp: number, oup: number, stride: number, expand: number, rng: Rng) {
    super();
    const hidden = Math.round(inp * expand);
    this.useResidual = stride === 1 && inp === oup;
    const layers: Module[] = [];
    if (expand !== 1) layers.push(new ConvBNAct(inp, hidden, 1, 1, 1, 'relu6', rng));
    layers.push(new ConvBNAct(hidden, hidden, 3, stride, hidden, 'relu6', rng));
    layers.push(new Conv2d(hidden, oup, 1, { bias: false }, rng), new BatchNorm2d(oup));
    this.conv = this.registerModule('conv', new Sequential(...layers));
  }
  forward(x: Tensor): Tensor {
    const h = this.conv.call(x);
    return this.useResidual ? ag.add(x, h) : h;
  }
}

export interface MobileNetV2Config {
  /** Default 1000. */
  numClasses?: number;
  /** Dropout before the classifier (torchvision 0.2; MQBench's eval model 0.0). */
  dropout?: number;
  /** Per-channel normalisation of [0, 1] RGB inputs; default ImageNet's. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Seed of the initialisation and of dropout; default 0. */
  seed?: number;
}

export class MobileNetV2 extends Module {
  readonly normalize: Normalize;
  readonly features: Sequential;
  readonly classifier: Sequential;
  constructor(cfg: MobileNetV2Config = {}) {
    super();
    const numClasses = checkClasses(cfg.numClasses ?? 1000);
    const p = cfg.dropout ?? 0.2;
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw invalidOption('dropout', 'number in [0, 1)', p);
    const rng = new Rng(cfg.seed ?? 0);
    this.normalize = this.registerModule('normalize', new Normalize(cfg.mean ?? IMAGENET_MEAN, cfg.std ?? IMAGENET_STD));
    const feats: Module[] = [new ConvBNAct(3, 32, 3, 2, 1, 'relu6', rng)];
    let cin = 32;
    for (const [t, c, n, s] of MOBILENET_V2_SETTINGS) {
      for (let i = 0; i < n; i++) {
        feats.push(new InvertedResidual(cin, c, i === 0 ? s : 1, t, rng));
        cin = c;
      }
    }
    feats.push(new ConvBNAct(cin, 1280, 1, 1, 1, 'relu6', rng));
    this.features = this.registerModule('features', new Sequential(...feats));
    this.classifier = this.registerModule('classifier', new Sequential(new Dropout(p, rng.fork('dropout')), new Linear(1280, numClasses, rng)));
    initTorchvision(this, rng);
  }
  forward(x: Tensor): Tensor {
    const h = this.features.call(this.normalize.call(x));
    return this.classifier.call(ag.flatten(ag.globalAvgPool2d(h)));
  }
}

/**
 * Builds mobilenet_v2.
 * @param cfg class count, dropout, normalisation, seed
 * @throws UsageError on a bad class count or dropout
 * @example
 * mobilenetV2().numParameters() // 3504872
 */
export function mobilenetV2(cfg: MobileNetV2Config = {}): MobileNetV2 {
  return new MobileNetV2(cfg);
}

/**
 * Renames an MQBench mobilenet_v2 state dict (flat `features.N.conv.{0,1,3,4,6,7}`) to torchvision's names
 * (PROTOCOL.md §5): expanding blocks map 0,1,3,4,6,7 → 0.0, 0.1, 1.0, 1.1, 2, 3; the t = 1 block maps 0,1,3,4 →
 * 0.0, 0.1, 1, 2; everything else is unchanged.
 * @param state MQBench names → tensors
 * @returns a new map with torchvision names
 * @throws never
 * @example
 * [...mobilenetV2FromMqbench(new Map([['features.2.conv.6.weight', t]])).keys()] // ['features.2.conv.2.weight']
 */
export function mobilenetV2FromMqbench<T>(state: Map<string, T>): Map<string, T> {
  const expand: Record<string, string> = { 0: '0.0', 1: '0.1', 3: '1.0', 4: '1.1', 6: '2', 7: '3' };
  const plain: Record<string, string> = { 0: '0.0', 1: '0.1', 3: '1', 4: '2' };
  const out = new Map<string, T>();
  for (const [k, v] of state) {
    const m = /^features\.(\d+)\.conv\.(\d+)\.(.*)$/.exec(k);
    if (!m) {
      out.set(k, v);
      continue;
    }
    const table = m[1] === '1' ? plain : expand;
    out.set(`features.${m[1]}.conv.${table[m[2]!] ?? m[2]}.${m[3]}`, v);
  }
  return out;
}
