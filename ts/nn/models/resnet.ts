/**
 * resnet18 as torchvision builds it (PROTOCOL.md §5): 7×7/2 stem with BN and ReLU, 3×3/2 max-pool,
 * four stages of two BasicBlocks (64, 128, 256, 512 channels; stride 2 from stage 2, with 1×1 conv +
 * BN downsampling), global average pooling and fc. Parameter names are torchvision's
 * (`conv1`, `bn1`, `layer{1-4}.{i}.conv{1,2}/bn{1,2}/downsample.{0,1}`, `fc`), so its state dicts load
 * directly; `normalize.{mean,std}` comes first (ImageNet statistics by default), which torchvision
 * models do not have: load them with `loadStateDict(state, false)`.
 * Works at any input size ≥ 32×32 and any class count. 11,689,512 parameters at 1000 classes.
 * Init as torchvision: kaiming_normal(fan_out) for convolutions, γ = 1, β = 0, torch's default for fc.
 */
import { invalidOption } from '../../util/errors.ts';
import { Rng } from '../../util/rng.ts';
import { Tensor } from '../../tensor/tensor.ts';
import * as ag from '../../autograd/index.ts';
import { Module } from '../module.ts';
import { BatchNorm2d, Conv2d, Linear, Normalize, Sequential } from '../layers.ts';
import { kaimingNormal } from '../init.ts';
import { BasicBlock } from './resnet20.ts';

export interface ResNet18Config {
  /** Default 1000. */
  numClasses?: number;
  /** Per-channel normalisation of [0, 1] RGB inputs; default ImageNet's. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Seed of the initialisation; default 0. */
  seed?: number;
}

export class ResNet18 extends Module {
  readonly normalize: Normalize;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly fc: Linear;
  constructor(cfg: ResNet18Config = {}) {
    super();
    const numClasses = cfg.numClasses ?? 1000;
    if (!Number.isInteger(numClasses) || numClasses < 2) throw invalidOption('numClasses', 'integer >= 2', numClasses);
    const rng = new Rng(cfg.seed ?? 0);
    this.normalize = this.registerModule('normalize', new Normalize(cfg.mean ?? [0.485, 0.456, 0.406], cfg.std ?? [0.229, 0.224, 0.225]));
    this.conv1 = this.registerModule('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false }, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    const stage = (inP: number, p: number, stride: number) => new Sequential(new BasicBlock(inP, p, stride, rng), new BasicBlock(p, p, 1, rng));
    this.layer1 = this.registerModule('layer1', stage(64, 64, 1));
    this.layer2 = this.registerModule('layer2', stage(64, 128, 2));
    this.layer3 = this.registerModule('layer3', stage(128, 256, 2));
    this.layer4 = this.registerModule('layer4', stage(256, 512, 2));
    this.fc = this.registerModule('fc', new Linear(512, numClasses, rng));
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
 * Builds resnet18.
 * @throws UsageError on a bad class count
 * @example
 * resnet18({ numClasses: 10 }).call(Tensor.zeros([1, 3, 32, 32])).shape // [1, 10]
 */
export function resnet18(cfg: ResNet18Config = {}): ResNet18 {
  return new ResNet18(cfg);
}
