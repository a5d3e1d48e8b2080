/**
 * `qrobust requant`: every INTEGER.md §e requantization vector for every variant it concerns, through the
 * real command parser (in-process main(), stdout/stderr captured): exit codes and the one-line error
 * convention; two spawned runs of the installed entry point.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { main } from '../../../ts/cli/main.ts';
import { repoRoot } from '../../../ts/native/binding.ts';
import { setQuiet } from '../../../ts/util/progress.ts';

/** Runs the CLI in-process (the real commander program), capturing stdout and stderr. */
async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [], err: string[] = [];
  const origOut = process.stdout.write.bind(process.stdout), origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => out.push(String(s)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => err.push(String(s)) > 0) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['node', 'qrobust', ...args]);
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    setQuiet(false); // --json made the process quiet; other suites print progress
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function requant(args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  const r = await runMain(['requant', ...args, '--json']);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `exactly one JSON object (stderr: ${r.stderr})`);
  return { code: r.code, json: JSON.parse(lines[0]!) as Record<string, unknown> };
}

/** [vector, variants, --scale, accumulators, expected outputs] with a wide clamp. */
const VECTORS: [string, string[], string, number[], number[]][] = [
  ['§e1 RHU', ['tflite-double', 'tflite-single', 'xnnpack-rndnu'], '0.5', [-3, -2, -1, 0, 1, 2, 3], [-1, -1, 0, 0, 1, 1, 2]],
  ['§e1 RNE', ['xnnpack-fp32', 'ort-mlas', 'onnx-ref', 'trt-gpu'], '0.5', [-3, -2, -1, 0, 1, 2, 3], [-2, -1, 0, 0, 0, 1, 2]],
  ['§e2 double', ['tflite-double'], '0.25', [-10, -6, -2, 2, 10], [-3, -2, -1, 1, 3]],
  ['§e2 single', ['tflite-single', 'xnnpack-rndnu'], '0.25', [-10, -6, -2, 2, 10], [-2, -1, 0, 1, 3]],
  ['§e2 RNE', ['xnnpack-fp32', 'ort-mlas', 'onnx-ref', 'trt-gpu'], '0.25', [-10, -6, -2, 2, 10], [-2, -2, 0, 0, 2]],
  ['§e3 double', ['tflite-double'], '0.021454659224142497', [-7527], [-162]],
  ['§e3 others', ['tflite-single', 'xnnpack-fp32', 'ort-mlas', 'xnnpack-rndnu', 'onnx-ref'], '0.021454659224142497', [-7527], [-161]],
  ['§e6 double wraps', ['tflite-double'], '3', [2 ** 29 + 1], [-1610612733]],
  ['§e6 single', ['tflite-single'], '3', [2 ** 29 + 1], [1610612739]],
  // §e7: INTEGER.md says tflite-* give 65; double rounding gives 66 (see docs/integer.md)
  ['§e7 exact', ['tflite-single', 'xnnpack-rndnu', 'onnx-ref'], String(2 ** -19), [34340863], [65]],
  ['§e7 fl32(acc)', ['tflite-double', 'xnnpack-fp32', 'ort-mlas', 'trt-gpu'], String(2 ** -19), [34340863], [66]],
  ['§e12 M = 0', ['tflite-double', 'tflite-single', 'xnnpack-fp32', 'xnnpack-rndnu', 'ort-mlas', 'onnx-ref', 'trt-gpu'], '0', [-99999, 0, 99999], [0, 0, 0]],
];

describe('cli: qrobust requant', () => {
  for (const [name, variants, scale, acc, want] of VECTORS)
    it(`${name}: ${variants.join(', ')}`, async () => {
      for (const v of variants) {
        const r = await requant(['--variant', v, '--scale', scale, `--acc=${acc.join(',')}`, '--qmin', '-2147483648', '--qmax', '2147483647']);
        assert.equal(r.code, 0);
        assert.equal(r.json.variant, v);
        assert.deepEqual(r.json.outputs, want, `${name} ${v}`);
        assert.equal(typeof r.json.multiplier, 'object');
      }
    });

  it('reports the multiplier each stack forms from M', async () => {
    const d = await requant(['--variant', 'tflite-double', '--scale', '3', '--acc', '1']);
    assert.deepEqual(d.json.multiplier, { real: 3, q: 1610612736, shift: 2, effective: 3 });
    const r = await requant(['--variant', 'xnnpack-rndnu', '--scale', '0.25', '--acc', '1']);
    assert.deepEqual(r.json.multiplier, { float32: 0.25, bits: '0x3e800000', mantissa: 8388608, rightShift: 25 });
    const z = await requant(['--variant', 'ort-mlas', '--scale', '0.5', '--zero-point', '-5', '--qmin', '-5', '--acc=-100,100,1000']);
    assert.deepEqual(z.json.outputs, [-5, 45, 127]);
    const h = await requant(['--variant', 'fp16-fallback', '--scale', '0.001', '--acc', '1234567']);
    assert.deepEqual(h.json.outputs, [1235]);
  });

  it('bad flags: one line naming the flag, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--variant', 'tflite', '--scale', '1', '--acc', '1'], /for --variant but received 'tflite'/],
      [['--variant', 'ort-mlas', '--scale', '256', '--acc', '1'], /\[0, 256\) for --scale but received '256'/],
      [['--variant', 'ort-mlas', '--scale', '1', '--acc', '1,,2'], /--acc/],
      [['--variant', 'ort-mlas', '--scale', '1', '--acc', '3000000000'], /for --acc but received 3000000000/],
      [['--variant', 'trt-gpu', '--scale', '1', '--acc', '1', '--zero-point', '3'], /symmetric only/],
      [['--variant', 'ort-mlas', '--scale', '1', '--acc', '1', '--qmin', '5', '--qmax', '4'], /for --qmax/],
      [['--variant', 'ort-mlas', '--scale', '1'], /required option '--acc <list>'/],
    ];
    for (const [args, re] of cases) {
      const r = await runMain(['requant', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
  });

  it('the installed entry point (spawned): exit 2 on a bad flag, one JSON object on success', () => {
    const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
      const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', 'requant', ...args], { cwd: repoRoot, encoding: 'utf8', env: process.env, timeout: 60000 });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const bad = run(['--variant', 'tflite', '--scale', '1', '--acc', '1']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    const ok = run(['--variant', 'tflite-double', '--scale', '0.25', '--acc=-10,10', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim().split('\n').length, 1);
    assert.deepEqual(JSON.parse(ok.stdout).outputs, [-3, 3]);
  });
});
