/**
 * Presets of `qrobust run`: the grid, the training budgets and a pinned budget per suite. Every field is
 * recorded in the store (the config of each model and cell) and printed at the start of a run.
 *
 * - `smoke`: a few steps and a handful of images per suite; under a minute; for the tests (kill -9 resume,
 *   same seed twice). Its numbers mean nothing.
 * - `demo`: the embedded default (fashion-mnist, resnet20), the whole grid (FP + 3 methods × 4 bits, four
 *   suites) on 2 CPU cores in at most 30 minutes including FP training: FP and QAT are short fine-tunes on
 *   seeded train subsets, each suite runs on a seeded stratified test subset, AutoAttack at `aa-demo`, all
 *   tiers for FP and the small tier for quantized cells. Intervals in the report say how much the small
 *   subsets allow.
 * - `paper-resnet18`: the paper's protocol on ImageNet: `--data imagefolder:<dir>` with train and val
 *   splits, `--fp <checkpoint>` (a qrobust safetensors checkpoint or a float ONNX export of the user's
 *   torchvision model), the whole val split for every suite, AutoAttack standard, all tiers everywhere.
 */
import { invalidOption } from '../util/errors.ts';
import type { AttackId, Tier } from '../attacks/magnitudes.ts';
import { BITS, METHODS, RUN_SUITES, type Method, type RunSuite } from './grid.ts';

/** Training budget of the FP model or of each QAT model. */
export interface TrainBudget {
  epochs: number;
  /** seeded stratified train subset; null = the whole train split */
  trainLimit: number | null;
  /** peak learning rate */
  lr: number;
  batch: number;
}

/** The pinned budget of each suite. */
export interface SuiteBudgets {
  clean: { testLimit: number | null };
  systematic: { testLimit: number | null; extras: boolean };
  corruption: { testLimit: number | null; severities: number[] };
  adversarial: {
    testLimit: number | null;
    /** the subset of quantized models when smaller than the FP model's (12 of the 13 demo cells); null = testLimit */
    quantTestLimit: number | null;
    attacks: AttackId[];
    /** tiers for the FP model and for quantized models */
    fpTiers: Tier[];
    quantTiers: Tier[];
    aaVersion: 'standard' | 'aa-demo';
    /** per-attack overrides (e.g. PGD steps); recorded */
    attackOptions: Partial<Record<AttackId, Record<string, unknown>>>;
    batch: number;
  };
}

/** A preset. */
export interface Preset {
  name: string;
  description: string;
  /** default data name (paper-resnet18: none, `--data` is required) */
  data: string | null;
  archs: string[];
  methods: Method[];
  bits: number[];
  suites: RunSuite[];
  targets: string[];
  seed: number;
  /** float kernel threads the preset is sized for */
  threads: number;
  fp: TrainBudget;
  qat: TrainBudget;
  budgets: SuiteBudgets;
  /** the wall-clock gate in seconds, when the preset has one */
  gateSeconds: number | null;
  /** the preset needs `--fp` (no FP training) */
  needsFp: boolean;
}

const ALL_ATTACKS: AttackId[] = ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1', 'aa'];

export const PRESETS: Readonly<Record<string, Preset>> = {
  smoke: {
    name: 'smoke',
    description: 'tests only: resnet20 on fashion-mnist, a few training steps, 2 QAT cells, 8-16 images per suite (numbers mean nothing)',
    data: 'fashion-mnist', archs: ['resnet20'], methods: ['lsq'], bits: [2, 8], suites: [...RUN_SUITES], targets: ['reference'], seed: 0, threads: 1,
    fp: { epochs: 1, trainLimit: 640, lr: 0.05, batch: 32 },
    qat: { epochs: 1, trainLimit: 128, lr: 0.01, batch: 32 },
    budgets: {
      clean: { testLimit: 32 },
      systematic: { testLimit: 8, extras: false },
      corruption: { testLimit: 8, severities: [3] },
      adversarial: {
        testLimit: 8, quantTestLimit: null, attacks: ['fgsm', 'pgd-linf'], fpTiers: ['small', 'large'], quantTiers: ['small'], aaVersion: 'aa-demo',
        attackOptions: { 'pgd-linf': { steps: 3 } }, batch: 8,
      },
    },
    gateSeconds: 60, needsFp: false,
  },
  demo: {
    name: 'demo',
    description: 'the embedded default end to end: resnet20 on fashion-mnist, FP + DoReFa/PACT/LSQ x 2/4/6/8 bits, four suites on seeded test subsets',
    data: 'fashion-mnist', archs: ['resnet20'], methods: [...METHODS], bits: [...BITS], suites: [...RUN_SUITES], targets: ['reference'], seed: 0, threads: 2,
    // FP: 156 steps (about 75 s on 2 idle cores). QAT: 40 steps per cell, so that BN's running statistics (momentum
    // 0.1) follow the DoReFa / PACT weight normalisation: with 15 steps 0.9^15 = 21 % of the FP statistics remained
    // and DoReFa 8-bit evaluated at 34 % against an FP model of 73 %; with 40 steps (0.9^40 = 1.5 %) it gives 74 %.
    fp: { epochs: 1, trainLimit: 20000, lr: 0.1, batch: 128 },
    qat: { epochs: 1, trainLimit: 5120, lr: 0.004, batch: 128 },
    budgets: {
      clean: { testLimit: 1000 },
      systematic: { testLimit: 200, extras: false },
      corruption: { testLimit: 50, severities: [1, 2, 3, 4, 5] },
      adversarial: {
        testLimit: 32, quantTestLimit: 16, attacks: ALL_ATTACKS, fpTiers: ['small', 'middle', 'large'], quantTiers: ['small'], aaVersion: 'aa-demo',
        attackOptions: {}, batch: 32,
      },
    },
    gateSeconds: 30 * 60, needsFp: false,
  },
  'paper-resnet18': {
    name: 'paper-resnet18',
    description: "the paper's protocol: resnet18 on ImageNet (imagefolder with train and val), the user's FP checkpoint, every suite on the whole val split, AutoAttack standard",
    data: null, archs: ['resnet18'], methods: [...METHODS], bits: [...BITS], suites: [...RUN_SUITES], targets: ['reference'], seed: 0, threads: 0,
    fp: { epochs: 0, trainLimit: null, lr: 0, batch: 64 },
    qat: { epochs: 1, trainLimit: null, lr: 0.004, batch: 64 },
    budgets: {
      clean: { testLimit: null },
      systematic: { testLimit: null, extras: true },
      corruption: { testLimit: null, severities: [1, 2, 3, 4, 5] },
      adversarial: {
        testLimit: null, quantTestLimit: null, attacks: ALL_ATTACKS, fpTiers: ['small', 'middle', 'large'], quantTiers: ['small', 'middle', 'large'], aaVersion: 'standard',
        attackOptions: {}, batch: 64,
      },
    },
    gateSeconds: null, needsFp: true,
  },
};

/** Preset names in `--help` order. */
export const PRESET_NAMES = Object.keys(PRESETS);

/**
 * Looks a preset up (a deep copy, so a run can narrow it).
 * @throws UsageError naming the presets
 * @example
 * getPreset('demo').bits // [2, 4, 6, 8]
 */
export function getPreset(name: unknown): Preset {
  if (typeof name !== 'string' || !(name in PRESETS)) throw invalidOption('--preset', `one of ${PRESET_NAMES.join(', ')}`, name);
  return structuredClone(PRESETS[name]!);
}

/**
 * One line per suite describing its pinned budget (printed at the start of a run and recorded).
 * @example
 * budgetLines(getPreset('smoke'))[0] // 'clean: 32 test images'
 */
export function budgetLines(p: Preset): string[] {
  const n = (v: number | null): string => (v === null ? 'the whole test split' : `${v} test images`);
  const b = p.budgets;
  const a = b.adversarial;
  const lines = [
    `clean: ${n(b.clean.testLimit)}`,
    `adversarial: ${n(a.testLimit)}${a.quantTestLimit !== null ? ` (quantized models: ${n(a.quantTestLimit)})` : ''}, attacks ${a.attacks.join(',')}, tiers FP ${a.fpTiers.join(',')} / quantized ${a.quantTiers.join(',')}, AutoAttack ${a.aaVersion}${Object.keys(a.attackOptions).length ? `, overrides ${JSON.stringify(a.attackOptions)}` : ''}`,
    `corruption: ${n(b.corruption.testLimit)}, 15 corruptions x severities ${b.corruption.severities.join(',')}`,
    `systematic: ${n(b.systematic.testLimit)}, the 14 pipelines${b.systematic.extras ? ' + extras' : ''}`,
  ];
  const fp = p.needsFp ? 'FP: the checkpoint given with --fp' : `FP training: ${p.fp.epochs} epoch(s) on ${p.fp.trainLimit ?? 'all'} train images, batch ${p.fp.batch}, lr ${p.fp.lr}`;
  lines.push(fp, `QAT: ${p.qat.epochs} epoch(s) on ${p.qat.trainLimit ?? 'all'} train images per cell, batch ${p.qat.batch}, lr ${p.qat.lr}`);
  return lines;
}
