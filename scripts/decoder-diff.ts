/**
 * Decoder-difference report (issue 7): per decoder pipeline, the mean and max |Δ| of its decoded RGB
 * against `dec-pil`'s (libjpeg-turbo islow + fancy upsampling = Pillow), over the committed colour
 * JPEG fixtures in test/fixtures/systematic (4:2:0 and 4:4:4 photo-like images, an odd-sized 4:2:0 one),
 * plus the greyscale fixture for comparison (no chroma, so only the IDCT and YUV->RGB can differ); the
 * EXIF file is left out (OpenCV rotates it).
 *
 *   QROBUST_ADDON=$PWD/build-sys/Release/qrobust.node npx tsx scripts/decoder-diff.ts [--json]
 *
 * Prints a Markdown table (docs/systematic.md records it). The embedded data set is greyscale, so its
 * decoder noise is much smaller than these colour numbers.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../ts/native/binding.ts';
import { decodeWith } from '../ts/systematic/preprocess.ts';

const DECODERS = ['dec-opencv', 'dec-ffmpeg', 'dec-ffmpeg-accurate', 'dec-sharp', 'dec-jpegjs', 'dec-nvjpeg-like', 'dec-tf-fast'];
const dir = join(repoRoot, 'test', 'fixtures', 'systematic');
const files = readdirSync(dir).filter((f) => /^(photo|grey).*\.jpg$/.test(f)).sort();

interface Cell { mean: number; max: number }
const table: Record<string, Record<string, Cell>> = {};
for (const id of DECODERS) table[id] = {};
for (const f of files) {
  const bytes = new Uint8Array(readFileSync(join(dir, f)));
  const ref = await decodeWith(bytes, f, 'dec-pil');
  for (const id of DECODERS) {
    const img = await decodeWith(bytes, f, id);
    if (img.width !== ref.width || img.height !== ref.height) throw new Error(`${id} ${f}: size ${img.width}x${img.height} vs ${ref.width}x${ref.height}`);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < img.data.length; i++) {
      const d = Math.abs(img.data[i]! - ref.data[i]!);
      sum += d;
      if (d > max) max = d;
    }
    table[id]![f] = { mean: sum / img.data.length, max };
  }
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ reference: 'dec-pil', files, table })}\n`);
} else {
  const head = files.map((f) => f.replace(/\.jpg$/, ''));
  console.log(`| decoder | ${head.map((h) => `${h} mean / max`).join(' | ')} |`);
  console.log(`|---|${head.map(() => '---').join('|')}|`);
  for (const id of DECODERS) console.log(`| ${id} | ${files.map((f) => `${table[id]![f]!.mean.toFixed(3)} / ${table[id]![f]!.max}`).join(' | ')} |`);
  console.log('\n|Δ| in 8-bit levels per channel against dec-pil. The embedded data set is greyscale: its decoder noise is that of the grey column, far below the colour 4:2:0 columns.');
}
