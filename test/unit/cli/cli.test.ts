import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../../../ts/native/binding.ts';

/** Runs the real CLI entry point (ts/cli/bin.mjs) as a user would. */
export function runCli(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('cli shell', () => {
  it('info --json prints exactly one JSON object with the fixed shape', () => {
    const r = runCli(['info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]!);
    for (const k of ['node', 'addon', 'sharp', 'libvips', 'opencv', 'libjpeg', 'ffmpeg', 'onnxruntime', 'blas']) assert.ok(k in j.versions, k);
    assert.equal(j.versions.node, process.versions.node);
    assert.ok(Array.isArray(j.cpu.features));
    assert.equal(typeof j.cpu.kernels, 'object');
    assert.equal(typeof j.libraries.opencv, 'boolean');
    assert.deepEqual(Object.keys(j.cuda).sort(), ['archs', 'compiled', 'device']);
  });

  it('unknown command: one line, exit 2', () => {
    const r = runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });

  it('unknown flag: one line naming it, exit 2', () => {
    const r = runCli(['info', '--nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option '--nope'/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('--help lists the commands', () => {
    const r = runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /info/);
  });
});
