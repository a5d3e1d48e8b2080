/**
 * The architectures `qrobust train --arch` builds, by CONVENTIONS.md name. One table maps a name to a
 * builder taking the class count, the normalisation (the model's first layer) and the init seed, so the
 * trainer and the checkpoint loader build the same module from the same record.
 */
import { invalidOption } from '../util/errors.ts';
import type { Module } from '../nn/module.ts';
import { resnet20 } from '../nn/models/resnet20.ts';
import { resnet18 } from '../nn/models/resnet.ts';
import { createModel } from '../nn/models/index.ts';

/** What a builder needs; every field is recorded in the checkpoint. */
export interface ModelSpec {
  numClasses: number;
  /** per-channel mean of the [0, 1] input (3 values) */
  mean: readonly number[];
  /** per-channel std of the [0, 1] input (3 values) */
  std: readonly number[];
  /** seed of the initialisation */
  seed: number;
}

const BUILDERS = {
  resnet20: (s: ModelSpec): Module => resnet20({ numClasses: s.numClasses, mean: s.mean, std: s.std, seed: s.seed }),
  resnet18: (s: ModelSpec): Module => resnet18({ numClasses: s.numClasses, mean: s.mean, std: s.std, seed: s.seed }),
  mobilenet_v2: (s: ModelSpec): Module => createModel('mobilenet_v2', { numClasses: s.numClasses, mean: s.mean, std: s.std, seed: s.seed }),
  regnetx_600mf: (s: ModelSpec): Module => createModel('regnetx_600mf', { numClasses: s.numClasses, mean: s.mean, std: s.std, seed: s.seed }),
} as const satisfies Record<string, (s: ModelSpec) => Module>;

/** Architecture names the trainer can build (resnet50 is left out: too large for the embedded default). */
export type Arch = keyof typeof BUILDERS;

/** The names, in the order `--help` lists them. */
export const ARCHS = Object.keys(BUILDERS) as Arch[];

/**
 * Checks an architecture name.
 * @param name the value of `--arch` (or a checkpoint's `arch` field)
 * @param option the option named in the error (default `--arch`)
 * @throws UsageError listing the known architectures
 * @example
 * checkArch('resnet20') // 'resnet20'
 */
export function checkArch(name: unknown, option = '--arch'): Arch {
  if (typeof name !== 'string' || !(ARCHS as string[]).includes(name)) throw invalidOption(option, `one of ${ARCHS.join(', ')}`, name);
  return name as Arch;
}

/**
 * Builds a fresh model.
 * @param arch a name of {@link ARCHS}
 * @param spec classes, normalisation, seed
 * @throws UsageError for an unknown architecture or a bad class count
 * @example
 * buildModel('resnet20', { numClasses: 10, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], seed: 0 }).numParameters() // 272474
 */
export function buildModel(arch: string, spec: ModelSpec): Module {
  return BUILDERS[checkArch(arch)](spec);
}
