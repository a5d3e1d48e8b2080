/**
 * resnet50 as torchvision builds it (PROTOCOL.md §5): 7×7/2 stem with BN and ReLU, 3×3/2 max-pool, four stages
 * of [3, 4, 6, 3] Bottlenecks (width 64, 128, 256, 512, expansion 4; the stride sits on the 3×3, "v1.5"; a 1×1
 * conv + BN projection where the shape changes), global average pooling and fc. Parameter names are
 * torchvision's (`conv1`, `bn1`, `layer{1-4}.{i}.conv{1,2,3}/bn{1,2,3}/downsample.{0,1}`, `fc`) after
 * `normalize.{mean,std}` (ImageNet statistics by default): torchvision state dicts load with
 * `loadStateDict(state, false)`. Any input size and class count; 25,557,032 parameters at 1000 classes.
 * Init as torchvision: kaiming_normal(fan_out) for convolutions, γ = 1, β = 0, torch's default for fc.
 */
import { Rng } from '../../util/rng.ts';
import { Tensor } from '../../tensor/tensor.ts';
import * as ag from '../../autograd/index.ts';
import { Module } from '../module.ts';
import { BatchNorm2d, Conv2d, Linear, Normalize, Sequential } from '../layers.ts';
import { kaimingNormal } from '../init.ts';
import { checkClasses, IMAGENET_MEAN, IMAGENET_STD } from './common.ts';

/** torchvision's Bottleneck: 1×1 → 3×3 (stride) → 1×1 (×4 channels), BN after each, ReLU after the sum. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number, rng: Rng) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 1, { bias: false }, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride, padding: 1, bias: false }, rng));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', new Conv2d(planes, out, 1, { bias: false }, rng));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    this.downsample = stride !== 1 || inPlanes !== out
      ? this.registerModule('downsample', new Sequential(new Conv2d(inPlanes, out, 1, { stride, bias: false }, rng), new BatchNorm2d(out)))
      : null;
  }
  forward(x: Tensor): Tensor {
    let h = ag.relu(this.bn1.call(this.conv1.call(x)));
    h = ag.relu(this.bn2.call(this.conv2.call(h)));
    h = this.bn3.call(this.conv3.call(h));
    return ag.relu(ag.add(h, this.downsample ? this.downsample.call(x) : x));
  }
}

export interface ResNet50Config {
  /** Default 1000. */
  numClasses?: number;
  /** Per-channel normalisation of [0, 1] RGB inputs; default ImageNet's. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Seed of the initialisation; default 0. */
  seed?: number;
}

export class ResNet50 extends Module {
  readonly normalize: Normalize;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly fc: Linear;
  constructor(cfg: ResNet50Config = {}) {
    super();
    const numClasses = checkClasses(cfg.numClasses ?? 1000);
    const rng = new Rng(cfg.seed ?? 0);
    this.normalize = this.registerModule('normalize', new Normalize(cfg.mean ?? IMAGENET_MEAN, cfg.std ?? IMAGENET_STD));
    this.conv1 = this.registerModule('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    let inPlanes = 64;
    const stage = (planes: number, blocks: number, stride: number): Sequential => {
      const b: Bottleneck[] = [];
      for (let i = 0; i < blocks; i++) {
        b.push(new Bottleneck(inPlanes, planes, i === 0 ? stride : 1, rng));
        inPlanes = planes * Bottleneck.expansion;
      }
      return new Sequential(...b);
    };
    this.layer1 = this.registerModule('layer1', stage(64, 3, 1));
    this.layer2 = this.registerModule('layer2', stage(128, 4, 2));
    this.layer3 = this.registerModule('layer3', stage(256, 6, 2));
    this.layer4 = this.registerModule('layer4', stage(512, 3, 2));
    this.fc = this.registerModule('fc', new Linear(2048, numClasses, rng));
    for (const [name, p] of this.namedParameters()) if (p.ndim === 4 && name.endsWith('weight')) kaimingNormal(p, rng, 'fanOut');
  }
  forward(x: Tensor): Tensor {
    let h = this.normalize.call(x);
    h = ag.relu(this.bn1.call(this.conv1.call(h)));
    h = ag.maxPool2d(h, { kernel: 3, stride: 2, padding: 1 });
    h = this.layer4.call(this.layer3.call(this.layer2.call(this.layer1.call(h))));
    return this.fc.call(ag.flatten(ag.globalAvgPool2d(h)));
  }
}

/**
 * Builds resnet50.
 * @param cfg class count, normalisation, seed
 * @throws UsageError on a bad class count
 * @example
 * resnet50().numParameters() // 25557032
 */
export function resnet50(cfg: ResNet50Config = {}): ResNet50 {
  return new ResNet50(cfg);
}
