/**
 * Generates ts/data/manifests/fashion-mnist.bin, the committed manifest that pins the embedded data set
 * (CONVENTIONS.md "The embedded default, pinned"; format in ts/data/fashion-mnist.ts and docs/data.md).
 *
 *   npx tsx scripts/make-fashion-mnist-manifest.ts [--check] [--out <file>]
 *
 * --check recomputes and compares with the committed file instead of writing (exit 1 on a mismatch).
 */
import { writeFileSync } from 'node:fs';
import {
  FASHION_MNIST_MANIFEST, buildFashionMnistSplit, checkAgainstManifest, encodeManifest, loadFashionMnistSource, readManifest, splitCounts,
} from '../ts/data/fashion-mnist.ts';

const args = process.argv.slice(2);
const check = args.includes('--check');
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? args[outIdx + 1]! : FASHION_MNIST_MANIFEST;

const t0 = performance.now();
const split = buildFashionMnistSplit(loadFashionMnistSource());
const counts = splitCounts(split);
const malformed = split.dropped.filter((d) => d.reason === 'malformed');
const dups = split.dropped.filter((d) => d.reason === 'duplicate');
const within = new Array<number>(10).fill(0);
for (const d of dups) if (d.duplicateOf!.label === d.label) within[d.label]!++;
const cross = dups.filter((d) => d.duplicateOf!.label !== d.label);
process.stderr.write(`kept ${split.entries.length}: train ${counts.train.reduce((a, b) => a + b)} test ${counts.test.reduce((a, b) => a + b)}\n`);
process.stderr.write(`test per class ${counts.test.join(',')}\n`);
process.stderr.write(`malformed ${malformed.map((d) => `${d.label}#${d.sourceIndex}`).join(',')}\n`);
process.stderr.write(`duplicates within class ${within.join(',')} (total ${within.reduce((a, b) => a + b)}); across classes ${cross.map((d) => `${d.label}#${d.sourceIndex}=${d.duplicateOf!.label}#${d.duplicateOf!.sourceIndex}`).join(',') || 'none'}\n`);
if (check) {
  checkAgainstManifest(split, readManifest(out), out);
  process.stderr.write(`${out} matches (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
} else {
  const bytes = encodeManifest(split);
  writeFileSync(out, bytes);
  process.stderr.write(`wrote ${out}: ${bytes.length} bytes (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
