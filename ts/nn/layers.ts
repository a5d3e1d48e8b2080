/**
 * Layers over the autograd primitives, with torch's parameter names and defaults. Every random
 * initialisation takes an explicit {@link Rng}.
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import type { Conv2dOptions } from '../tensor/float-kernels.ts';
import * as ag from '../autograd/index.ts';
import { Module } from './module.ts';
import { torchDefaultWeight, uniform, fans } from './init.ts';

function posInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalidOption(name, 'integer >= 1', v);
  return v;
}

function needRng(rng: unknown): Rng {
  if (!(rng instanceof Rng)) throw invalidOption('rng', 'an Rng (seeded generator)', rng);
  return rng;
}

export interface Conv2dConfig extends Conv2dOptions {
  /** Learnable bias (torch default true). */
  bias?: boolean;
}

/**
 * 2-d convolution layer: `weight` [out, in/groups, k, k], optional `bias` [out], torch's default init.
 * @throws UsageError on bad sizes or options
 * @example
 * new Conv2d(3, 16, 3, { padding: 1, bias: false }, new Rng(0)).call(Tensor.zeros([1, 3, 8, 8])).shape // [1, 16, 8, 8]
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly opts: Conv2dOptions;
  constructor(inChannels: number, outChannels: number, kernel: number | readonly [number, number], cfg: Conv2dConfig, rng: Rng) {
    super();
    posInt('inChannels', inChannels);
    posInt('outChannels', outChannels);
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    posInt('kernel', kh);
    posInt('kernel', kw);
    const groups = cfg.groups ?? 1;
    posInt('groups', groups);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) throw new UsageError(`Conv2d: channels ${inChannels} -> ${outChannels} must be divisible by groups ${groups}`);
    needRng(rng);
    this.opts = { stride: cfg.stride, padding: cfg.padding, dilation: cfg.dilation, groups };
    this.weight = this.registerParameter('weight', torchDefaultWeight(Tensor.zeros([outChannels, inChannels / groups, kh!, kw!]), rng));
    this.bias = cfg.bias === false ? null : this.registerParameter('bias', uniform(Tensor.zeros([outChannels]), rng, 1 / Math.sqrt(fans(this.weight).fanIn)));
  }
  forward(x: Tensor): Tensor {
    return ag.conv2d(x, this.weight, this.bias, this.opts);
  }
}

/**
 * Fully connected layer: `weight` [out, in], `bias` [out], torch's default init.
 * @example
 * new Linear(64, 10, new Rng(0)).call(Tensor.zeros([2, 64])).shape // [2, 10]
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, rng: Rng, bias = true) {
    super();
    posInt('inFeatures', inFeatures);
    posInt('outFeatures', outFeatures);
    needRng(rng);
    this.weight = this.registerParameter('weight', torchDefaultWeight(Tensor.zeros([outFeatures, inFeatures]), rng));
    this.bias = bias ? this.registerParameter('bias', uniform(Tensor.zeros([outFeatures]), rng, 1 / Math.sqrt(inFeatures))) : null;
  }
  forward(x: Tensor): Tensor {
    return ag.linear(x, this.weight, this.bias);
  }
}

/**
 * BatchNorm2d with torch's names (`weight`, `bias`, `running_mean`, `running_var`,
 * `num_batches_tracked`) and defaults (momentum 0.1, eps 1e-5, γ = 1, β = 0). Running statistics are
 * updated in training mode, used in eval mode. `num_batches_tracked` is a float32 scalar here
 * (int64 in torch).
 * @example
 * new BatchNorm2d(16).eval().call(Tensor.zeros([1, 16, 4, 4])).shape // [1, 16, 4, 4]
 */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  readonly momentum: number;
  readonly eps: number;
  constructor(channels: number, opts: { momentum?: number; eps?: number } = {}) {
    super();
    posInt('channels', channels);
    this.momentum = opts.momentum ?? 0.1;
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.registerParameter('weight', Tensor.ones([channels]));
    this.bias = this.registerParameter('bias', Tensor.zeros([channels]));
    this.runningMean = this.registerBuffer('running_mean', Tensor.zeros([channels]));
    this.runningVar = this.registerBuffer('running_var', Tensor.ones([channels]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', Tensor.zeros([]));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.numBatchesTracked.data[0]! += 1;
    return ag.batchnorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, { training: this.training, momentum: this.momentum, eps: this.eps });
  }
}

/** ReLU. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return ag.relu(x);
  }
}

/** ReLU6 (MobileNetV2). */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return ag.relu6(x);
  }
}

/** Identity. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Max pooling layer. */
export class MaxPool2d extends Module {
  constructor(readonly opts: ag.Pool2dOptions) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ag.maxPool2d(x, this.opts);
  }
}

/** Average pooling layer. */
export class AvgPool2d extends Module {
  constructor(readonly opts: ag.Pool2dOptions) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ag.avgPool2d(x, this.opts);
  }
}

/** [N, C, H, W] → [N, C, 1, 1] (AdaptiveAvgPool2d(1)). */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return ag.globalAvgPool2d(x);
  }
}

/** flatten(x, startDim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ag.flatten(x, this.startDim);
  }
}

/** Dropout with its own seeded stream (identity in eval mode). */
export class Dropout extends Module {
  constructor(readonly p: number, readonly rng: Rng) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw invalidOption('p', 'number in [0, 1)', p);
    needRng(rng);
  }
  forward(x: Tensor): Tensor {
    return ag.dropout(x, this.p, this.rng, this.training);
  }
}

/**
 * Per-channel (x − mean) / std: the model's first layer, so attacks and corruptions work in [0, 1]
 * pixels (CONVENTIONS.md). `mean` and `std` are buffers.
 * @throws UsageError when the lists differ in length or a std is not positive
 * @example
 * new Normalize([0.5], [0.25]).call(Tensor.full([1, 1, 1, 1], 1)).item() // 2
 */
export class Normalize extends Module {
  readonly mean: Tensor;
  readonly std: Tensor;
  constructor(mean: readonly number[], std: readonly number[]) {
    super();
    if (!Array.isArray(mean) || !Array.isArray(std) || mean.length !== std.length || mean.length === 0) throw invalidOption('mean/std', 'two lists of the same non-zero length', `${String(mean)} / ${String(std)}` as unknown);
    if (!std.every((s) => typeof s === 'number' && s > 0)) throw invalidOption('std', 'positive numbers', std);
    this.mean = this.registerBuffer('mean', Tensor.from(mean, [1, mean.length, 1, 1]));
    this.std = this.registerBuffer('std', Tensor.from(std, [1, std.length, 1, 1]));
  }
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.mean.shape[1]) throw new UsageError(`Normalize: expected [N, ${this.mean.shape[1]}, H, W] input but received ${fmtShape(x.shape)}`);
    return ag.div(ag.sub(x, this.mean), this.std);
  }
}

/**
 * Children applied in order, named "0", "1", ... (torch.nn.Sequential).
 * @example
 * new Sequential(new ReLU(), new Flatten()).call(Tensor.zeros([2, 3, 2, 2])).shape // [2, 12]
 */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module)) throw invalidOption(`layers[${i}]`, 'a Module', m);
      this.registerModule(String(i), m);
    });
    this.layers = layers;
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.layers) h = m.call(h);
    return h;
  }
}
