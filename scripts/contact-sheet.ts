/**
 * Writes docs/corruptions-contact-sheet.png: the 15 ImageNet-C corruptions (rows, reference order) at
 * severities 1..5 (columns, after the clean image) on one synthetic 224×224 scene drawn here (sky, sun,
 * hills, a house, a chequered field: no photograph, nothing licensed), corrupted at 224 with the 224
 * table, seed 0, procedural frost; each tile is a 1:1 96×96 crop of the 224 result (house and sun, so
 * pixelation and JPEG blocks stay visible) and the sheet is stored as a palette PNG (< 300 KB).
 *
 *   npx tsx scripts/contact-sheet.ts [--out docs/corruptions-contact-sheet.png] [--tile 96]
 */
import sharp from 'sharp';
import { CORRUPTIONS, corrupt, type Image8 } from '../ts/corrupt/index.ts';
import { pilResize } from '../ts/native/image.ts';
import { Rng } from '../ts/util/rng.ts';

/** The synthetic scene (deterministic). */
export function scene(side = 224): Image8 {
  const d = new Uint8Array(side * side * 3);
  const put = (x: number, y: number, r: number, g: number, b: number): void => {
    const i = (y * side + x) * 3;
    d[i] = r; d[i + 1] = g; d[i + 2] = b;
  };
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const t = y / side;
      let r = 90 + 100 * t, g = 150 + 70 * t, b = 235 - 30 * t; // sky
      const sun = Math.hypot(x - 118, y - 82);
      if (sun < 22) { r = 255; g = 215; b = 90; } else if (sun < 30) { const k = (sun - 22) / 8; r = r * k + 255 * (1 - k); g = g * k + 230 * (1 - k); b = b * k + 150 * (1 - k); }
      const hill1 = 140 + 18 * Math.sin(x / 23) + 8 * Math.sin(x / 7.3);
      const hill2 = 165 + 12 * Math.cos(x / 31 + 1);
      if (y > hill1) { r = 60 + 20 * Math.sin(x / 5); g = 130 + 25 * Math.sin(y / 4); b = 55; }
      if (y > hill2) { const c = ((x >> 3) + (y >> 3)) & 1; r = c ? 200 : 120; g = c ? 180 : 90; b = c ? 60 : 40; }
      if (x >= 40 && x < 100 && y >= 105 && y < 165) { r = 190; g = 70; b = 55; if ((y - 105) % 12 === 0 || (x - 40) % 20 === 0) { r = 120; g = 40; b = 35; } }
      if (y >= 75 && y < 105 && Math.abs(x - 70) < (y - 75) * 1.1) { r = 90; g = 60; b = 50; }
      if (x >= 62 && x < 78 && y >= 140 && y < 165) { r = 70; g = 45; b = 30; }
      if (x >= 48 && x < 60 && y >= 115 && y < 128) { r = 220; g = 235; b = 250; }
      put(x, y, Math.round(r), Math.round(g), Math.round(b));
    }
  }
  return { data: d, width: side, height: side, channels: 3 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1]! : 'docs/corruptions-contact-sheet.png';
  const tile = args.includes('--tile') ? Number(args[args.indexOf('--tile') + 1]) : 96;
  const label = 118;
  const CROP_X = Math.min(34, 224 - tile);
  const CROP_Y = Math.min(60, 224 - tile);
  const img = scene();
  const cols = 6;
  const W = label + cols * tile;
  const H = 16 + CORRUPTIONS.length * tile;
  const sheet = new Uint8Array(W * H * 3).fill(255);
  const blit = (t: Image8, cx: number, cy: number): void => {
    for (let y = 0; y < t.height; y++) sheet.set(t.data.subarray(y * t.width * 3, (y + 1) * t.width * 3), ((cy + y) * W + cx) * 3);
  };
  // a 1:1 crop (no rescaling, so pixelation and JPEG blocks stay visible) around the house and the sun
  const small = async (x: Image8): Promise<Image8> => pilResize(x, 224, 224, 'nearest', { x: CROP_X, y: CROP_Y, width: tile, height: tile });
  for (let r = 0; r < CORRUPTIONS.length; r++) {
    const id = CORRUPTIONS[r]!;
    blit(await small(img), label, 16 + r * tile);
    for (let s = 1; s <= 5; s++) {
      const c = await corrupt(img, id, s, new Rng(0));
      blit(await small(c), label + s * tile, 16 + r * tile);
    }
  }
  const text = CORRUPTIONS.map((id, r) => `<text x="4" y="${16 + r * tile + tile / 2 + 4}" font-family="sans-serif" font-size="12">${id}</text>`).join('')
    + ['clean', '1', '2', '3', '4', '5'].map((s, i) => `<text x="${label + i * tile + tile / 2 - 10}" y="12" font-family="sans-serif" font-size="11">${s}</text>`).join('');
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${text}</svg>`);
  await sharp(sheet, { raw: { width: W, height: H, channels: 3 } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .png({ palette: true, colours: 192, effort: 10, compressionLevel: 9 })
    .toFile(out);
  const { statSync } = await import('node:fs');
  process.stderr.write(`${out}: ${W}x${H}, ${statSync(out).size} bytes\n`);
}

await main();
