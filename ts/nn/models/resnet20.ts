/**
 * resnet20 for 32×32 inputs (He et al. 2016, §4.2): a 3×3 stem of 16 channels, three stages of three
 * BasicBlocks (16, 32, 64 channels; stride 2 at the first block of stages 2 and 3), global average
 * pooling and a linear classifier: 0.27 M parameters at 10 classes.
 *
 * Shortcuts where the shape changes are 1×1 convolution + BN projections ("option B", as torchvision's
 * BasicBlock), not the paper's zero-padding ("option A"): it keeps every layer a conv/BN that the
 * integer kernels and ONNX export handle. Names follow torchvision (`conv1`, `bn1`,
 * `layer{1..3}.{i}.conv{1,2}/bn{1,2}/downsample.{0,1}`, `fc`), preceded by `normalize.{mean,std}`:
 * normalisation is the first layer, so the model takes [0, 1] pixels (CONVENTIONS.md).
 * Init: kaiming_normal(fan_out) for convolutions, γ = 1, β = 0, torch's default for fc (seeded).
 */
import { invalidOption } from '../../util/errors.ts';
import { Rng } from '../../util/rng.ts';
import { Tensor } from '../../tensor/tensor.ts';
import * as ag from '../../autograd/index.ts';
import { Module } from '../module.ts';
import { BatchNorm2d, Conv2d, Linear, Normalize, Sequential } from '../layers.ts';
import { kaimingNormal } from '../init.ts';

/** The BasicBlock: conv3×3-BN-ReLU-conv3×3-BN, plus the (projected) input, then ReLU. */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number, rng: Rng) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false }, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }, rng));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inPlanes !== planes
      ? this.registerModule('downsample', new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false }, rng), new BatchNorm2d(planes)))
      : null;
  }
  forward(x: Tensor): Tensor {
    let out = ag.relu(this.bn1.call(this.conv1.call(x)));
    out = this.bn2.call(this.conv2.call(out));
    const sc = this.downsample ? this.downsample.call(x) : x;
    return ag.relu(ag.add(out, sc));
  }
}

export interface ResNet20Config {
  /** Default 10. */
  numClasses?: number;
  /** Input channels, default 3. */
  inChannels?: number;
  /** Per-channel normalisation of [0, 1] inputs; default mean 0, std 1 (identity). */
  mean?: readonly number[];
  std?: readonly number[];
  /** Seed of the initialisation; default 0. */
  seed?: number;
}

export class ResNet20 extends Module {
  readonly normalize: Normalize;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly fc: Linear;
  readonly config: Required<ResNet20Config>;
  constructor(cfg: ResNet20Config = {}) {
    super();
    const numClasses = cfg.numClasses ?? 10;
    const inChannels = cfg.inChannels ?? 3;
    if (!Number.isInteger(numClasses) || numClasses < 2) throw invalidOption('numClasses', 'integer >= 2', numClasses);
    if (!Number.isInteger(inChannels) || inChannels < 1) throw invalidOption('inChannels', 'integer >= 1', inChannels);
    const mean = cfg.mean ?? new Array<number>(inChannels).fill(0);
    const std = cfg.std ?? new Array<number>(inChannels).fill(1);
    const seed = cfg.seed ?? 0;
    this.config = { numClasses, inChannels, mean, std, seed };
    const rng = new Rng(seed);
    this.normalize = this.registerModule('normalize', new Normalize(mean, std));
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, 16, 3, { padding: 1, bias: false }, rng));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(16));
    const stage = (inP: number, p: number, stride: number) => new Sequential(new BasicBlock(inP, p, stride, rng), new BasicBlock(p, p, 1, rng), new BasicBlock(p, p, 1, rng));
    this.layer1 = this.registerModule('layer1', stage(16, 16, 1));
    this.layer2 = this.registerModule('layer2', stage(16, 32, 2));
    this.layer3 = this.registerModule('layer3', stage(32, 64, 2));
    this.fc = this.registerModule('fc', new Linear(64, numClasses, rng));
    for (const [name, p] of this.namedParameters()) if (p.ndim === 4 && name.endsWith('weight')) kaimingNormal(p, rng, 'fanOut');
  }
  forward(x: Tensor): Tensor {
    let h = this.normalize.call(x);
    h = ag.relu(this.bn1.call(this.conv1.call(h)));
    h = this.layer3.call(this.layer2.call(this.layer1.call(h)));
    return this.fc.call(ag.flatten(ag.globalAvgPool2d(h)));
  }
}

/**
 * Builds resnet20.
 * @throws UsageError on a bad class or channel count
 * @example
 * resnet20({ numClasses: 10, seed: 1 }).numParameters() // 272474
 */
export function resnet20(cfg: ResNet20Config = {}): ResNet20 {
  return new ResNet20(cfg);
}
