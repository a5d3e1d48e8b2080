/**
 * The torch-exported fixtures of the formats tests: runs scripts/gen-torch-fixtures.py once per process
 * (it is idempotent and returns at once when test/.generated/torch is up to date) and loads expected.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';

export const PYTHON = '/usr/bin/python3';
export const TORCH_DIR = join(repoRoot, 'test', '.generated', 'torch');

export interface ExpectedOnnx {
  ir_version: number;
  opset: [string, number][];
  producer_name: string;
  producer_version: string;
  nodes: number;
  op_counts: Record<string, number>;
  initializers: number;
  parameters: number;
  inputs: [string, (number | string)[]][];
  outputs: [string, (number | string)[]][];
  first_initializer: { name: string; dims: number[]; data_type: number; sum: number; first: number[] };
}
export interface ExpectedStateDict {
  tensors: number;
  parameters: number;
  names_head: string[];
  probe: { name: string; shape: number[]; sum: number; first: number[] };
  int64_scalars: string[];
}
export interface Expected {
  models: Record<'resnet18' | 'mobilenet_v2', { state_dict: ExpectedStateDict; onnx: ExpectedOnnx }>;
  dtypes: Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>;
}

let cached: { expected: Expected } | { skip: string } | null = null;

/**
 * Makes sure the fixtures exist. Returns a skip reason only when Debian's python3-torch is not installed;
 * any other failure of the generator throws (so a broken script fails the tests).
 */
export function torchFixtures(): { expected: Expected } | { skip: string } {
  if (cached) return cached;
  if (!existsSync(PYTHON)) return (cached = { skip: `${PYTHON} not found (install python3-torch python3-torchvision python3-onnx)` });
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { encoding: 'utf8', timeout: 120000 });
  if (probe.status !== 0) return (cached = { skip: `${PYTHON} lacks torch/torchvision/onnx (apt: python3-torch python3-torchvision python3-onnx)` });
  const r = spawnSync(PYTHON, ['scripts/gen-torch-fixtures.py', TORCH_DIR], { cwd: repoRoot, encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) throw new Error(`gen-torch-fixtures.py failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  cached = { expected: JSON.parse(readFileSync(join(TORCH_DIR, 'expected.json'), 'utf8')) as Expected };
  return cached;
}
