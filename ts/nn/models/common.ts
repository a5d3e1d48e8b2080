/**
 * Small helpers shared by the ImageNet-style models: argument checks, torchvision's initialisation and the
 * Conv-BN(-activation) unit that torchvision calls Conv2dNormActivation (children `0` conv, `1` BN, so its
 * names are `<prefix>.0.weight`, `<prefix>.1.running_mean`, ...).
 */
import { invalidOption } from '../../util/errors.ts';
import type { Rng } from '../../util/rng.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import * as ag from '../../autograd/index.ts';
import { Module } from '../module.ts';
import { BatchNorm2d, Conv2d, Linear } from '../layers.ts';
import { kaimingNormal, normal } from '../init.ts';

/** ImageNet channel statistics (PROTOCOL.md §2), the default normalisation of the ImageNet architectures. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/**
 * Checks a class count (integer ≥ 2) and returns it.
 * @param v the class count
 * @throws UsageError naming numClasses otherwise
 * @example
 * checkClasses(10) // 10
 */
export function checkClasses(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2) throw invalidOption('numClasses', 'integer >= 2', v);
  return v;
}

/** The activation after a Conv-BN unit. */
export type Activation = 'relu' | 'relu6' | 'none';

/**
 * Applies an {@link Activation}.
 * @param x the input
 * @param act relu, relu6 or none
 * @throws never
 * @example
 * activate(Tensor.from([-1, 7]), 'relu6').toArray() // [0, 6]
 */
export function activate(x: Tensor, act: Activation): Tensor {
  return act === 'relu' ? ag.relu(x) : act === 'relu6' ? ag.relu6(x) : x;
}

/**
 * Conv (no bias) → BN → activation, with children named `0` and `1` (torchvision's Conv2dNormActivation;
 * the activation module carries no parameters). Padding is (k − 1) / 2.
 */
export class ConvBNAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(cin: number, cout: number, k: number, stride: number, groups: number, readonly act: Activation, rng: Rng) {
    super();
    this.conv = this.registerModule('0', new Conv2d(cin, cout, k, { stride, padding: (k - 1) >> 1, groups, bias: false }, rng));
    this.bn = this.registerModule('1', new BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    return activate(this.bn.call(this.conv.call(x)), this.act);
  }
}

/**
 * torchvision's init for MobileNetV2 / RegNet: kaiming_normal(fan_out) for conv weights, conv biases 0, BN γ = 1,
 * β = 0 (already so), Linear N(0, 0.01) weights and zero biases.
 * @param m the model (its Conv2d and Linear descendants are re-initialised in place)
 * @param rng the seeded generator
 * @throws never
 * @example
 * const lin = new Linear(4, 2, new Rng(0)); initTorchvision(lin, new Rng(1));
 * lin.bias.toArray() // [0, 0]
 */
export function initTorchvision(m: Module, rng: Rng): void {
  const visit = (mod: Module): void => {
    if (mod instanceof Conv2d) {
      kaimingNormal(mod.weight, rng, 'fanOut');
      mod.bias?.data.fill(0);
    } else if (mod instanceof Linear) {
      normal(mod.weight, rng, 0.01);
      mod.bias?.data.fill(0);
    }
    for (const [, c] of mod.namedChildren()) visit(c);
  };
  visit(m);
}
