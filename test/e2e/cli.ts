/**
 * Helpers of the e2e tests: run the real entry point (ts/cli/bin.mjs) as a user would, and check its output
 * conventions (one JSON object on one stdout line; errors as one stderr line with the exit code).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../../ts/native/binding.ts';

/** The result of one CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `qrobust <args>` in the repository with 2 float threads (progress bars as in a CI log).
 * @param args the arguments after `qrobust`
 * @param env extra environment variables
 */
export function cli(args: string[], env: Record<string, string> = {}): CliRun {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 1200000, env: { ...process.env, OMP_NUM_THREADS: '2', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts success and exactly one JSON object on one stdout line, and returns it. */
export function oneJson(r: CliRun): Record<string, any> {
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  return JSON.parse(lines[0]!);
}

/** Asserts an error: the exit code, and exactly one stderr line matching `re`. */
export function oneLineError(r: CliRun, code: number, re: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, re);
}
