#!/usr/bin/python3
"""OpenCV parity fixtures of issue 7, computed with Debian's python3-opencv (never pip).

Two modes:
  /usr/bin/python3 scripts/gen-opencv-fixtures.py [--out DIR]
      (default test/.generated/opencv; the mocha tests run this themselves when the folder is missing or
      was made by another version of this script). Needs python3-opencv only. Written:
        manifest.json   versions (OpenCV, numpy, Python, script sha256) and every case below
        decode/*.rgb    cv2.cvtColor(cv2.imdecode(buf, IMREAD_COLOR), COLOR_BGR2RGB) of every committed
                        fixture in test/fixtures/systematic/*.jpg, and with IMREAD_IGNORE_ORIENTATION too
        in/*.png        lossless synthetic RGB sources for the resize cases (PNG: every decoder reads them
                        exactly, so `preprocess --resize-only` sees the same pixels as cv2)
        resize/*.rgb    cv2.resize(src, (w, h), interpolation=I) for the 7 interpolations (NEAREST, LINEAR,
                        CUBIC, AREA, LANCZOS4, LINEAR_EXACT, NEAREST_EXACT) at upscales, downscales and odd sizes
        pipe/*.rgb      the rs-opencv-* pipelines on the colour fixtures (decode, square resize to
                        floor(S*8/7), centre crop S) for S = 32 and 224
  /usr/bin/python3 scripts/gen-opencv-fixtures.py --committed test/fixtures/systematic
      (re)writes the small committed colour JPEGs (Pillow encoder, so also needs python3-pil): photo-like
      4:2:0 and 4:4:4, an odd-sized 4:2:0, greyscale, an EXIF orientation-6 file and RGB stripes. Run once;
      the committed files are the inputs from then on.

Deterministic: fixed formulas and random.Random seeds, no global RNG.
"""
import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import sys

GENERATOR_VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COMMITTED = os.path.join(ROOT, 'test', 'fixtures', 'systematic')


def photo(w, h, seed):
    """A smooth, colourful photo-like image with a few hard edges (chroma detail makes decoders differ)."""
    import math
    rng = random.Random(seed)
    blobs = [(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(w / 8, w / 3), [rng.uniform(-120, 120) for _ in range(3)])
             for _ in range(6)]
    out = bytearray(w * h * 3)
    for y in range(h):
        for x in range(w):
            rgb = [90 + 80 * x / w, 60 + 120 * y / h, 160 - 60 * (x + y) / (w + h)]
            for (cx, cy, r, col) in blobs:
                d = math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
                for c in range(3):
                    rgb[c] += col[c] * d
            if (x // 12 + y // 12) % 5 == 0:  # saturated squares: sharp chroma edges
                rgb = [230, 30, 40] if (x // 12) % 2 else [20, 40, 220]
            noise = rng.uniform(-6, 6)
            for c in range(3):
                out[(y * w + x) * 3 + c] = max(0, min(255, int(rgb[c] + noise)))
    return bytes(out)


def stripes(w, h):
    out = bytearray(w * h * 3)
    for y in range(h):
        for x in range(w):
            out[(y * w + x) * 3 + (3 * x // w)] = 255
    return bytes(out)


def write_committed(dest):
    from PIL import Image
    os.makedirs(dest, exist_ok=True)

    def save(name, w, h, data, mode='RGB', **kw):
        Image.frombytes(mode, (w, h), data).save(os.path.join(dest, name), 'JPEG', **kw)

    save('photo420_128x96.jpg', 128, 96, photo(128, 96, 1), quality=90, subsampling=2)
    save('photo444_128x96.jpg', 128, 96, photo(128, 96, 1), quality=90, subsampling=0)
    save('photo420_61x47.jpg', 61, 47, photo(61, 47, 2), quality=85, subsampling=2)
    grey = bytes(photo(64, 48, 3)[i * 3 + 1] for i in range(64 * 48))
    save('grey_64x48.jpg', 64, 48, grey, mode='L', quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation 6: OpenCV rotates 90 degrees clockwise when decoding; Pillow ignores it
    save('exif6_80x48.jpg', 80, 48, photo(80, 48, 4), quality=90, subsampling=2, exif=exif.tobytes())
    save('stripes_rgb_48x16.jpg', 48, 16, stripes(48, 16), quality=95, subsampling=0)
    for f in sorted(os.listdir(dest)):
        print(f, os.path.getsize(os.path.join(dest, f)), 'bytes')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(ROOT, 'test', '.generated', 'opencv'))
    ap.add_argument('--committed', help='write the committed JPEG fixtures into this folder and exit')
    a = ap.parse_args()
    if a.committed:
        write_committed(a.committed)
        return

    import cv2
    import numpy as np

    out = a.out
    if os.path.exists(out):
        shutil.rmtree(out)
    for d in ('decode', 'in', 'resize', 'pipe'):
        os.makedirs(os.path.join(out, d))
    with open(os.path.abspath(__file__), 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    m = {'generator': GENERATOR_VERSION, 'scriptSha256': sha,
         'versions': {'opencv': cv2.__version__, 'numpy': np.__version__, 'python': platform.python_version()},
         'decode': [], 'resize': [], 'pipelines': [], 'inputs': {}}

    def rgb_of(path, flags=cv2.IMREAD_COLOR):
        buf = np.fromfile(path, dtype=np.uint8)
        bgr = cv2.imdecode(buf, flags)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    fixtures = sorted(f for f in os.listdir(COMMITTED) if f.endswith('.jpg'))
    for f in fixtures:
        name = f[:-4]
        for key, flags in (('color', cv2.IMREAD_COLOR), ('ignore', cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)):
            img = rgb_of(os.path.join(COMMITTED, f), flags)
            rel = f'decode/{name}.{key}.rgb'
            img.tofile(os.path.join(out, rel))
            m['decode'].append({'jpeg': f, 'flags': key, 'width': int(img.shape[1]), 'height': int(img.shape[0]), 'file': rel})

    interps = {'nearest': cv2.INTER_NEAREST, 'linear': cv2.INTER_LINEAR, 'cubic': cv2.INTER_CUBIC, 'area': cv2.INTER_AREA,
               'lanczos4': cv2.INTER_LANCZOS4, 'linear_exact': cv2.INTER_LINEAR_EXACT, 'nearest_exact': cv2.INTER_NEAREST_EXACT}
    sources = {'photo97x61': (97, 61, photo(97, 61, 11)), 'noise40x40': None}
    rng = random.Random(7)
    sources['noise40x40'] = (40, 40, bytes(rng.randrange(256) for _ in range(40 * 40 * 3)))
    sizes = {'photo97x61': [(256, 256), (131, 77), (36, 36), (33, 21), (17, 29), (48, 31)],
             'noise40x40': [(36, 36), (13, 13), (80, 40), (41, 39), (120, 120)]}
    for sname, (w, h, data) in sources.items():
        src = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
        png = f'in/{sname}.png'
        cv2.imwrite(os.path.join(out, png), cv2.cvtColor(src, cv2.COLOR_RGB2BGR))
        m['inputs'][sname] = {'png': png, 'width': w, 'height': h}
        for (ow, oh) in sizes[sname]:
            for iname, flag in interps.items():
                r = cv2.resize(src, (ow, oh), interpolation=flag)
                rel = f'resize/{sname}_{iname}_{ow}x{oh}.rgb'
                r.tofile(os.path.join(out, rel))
                m['resize'].append({'source': sname, 'interpolation': iname, 'width': ow, 'height': oh, 'file': rel})

    for f in ('photo420_128x96.jpg', 'photo444_128x96.jpg', 'photo420_61x47.jpg'):
        img = rgb_of(os.path.join(COMMITTED, f))
        for size in (32, 224):
            t = size * 8 // 7
            off = round((t - size) / 2)
            for iname, flag in interps.items():
                r = cv2.resize(img, (t, t), interpolation=flag)[off:off + size, off:off + size]
                rel = f'pipe/{f[:-4]}_{iname}_{size}.rgb'
                np.ascontiguousarray(r).tofile(os.path.join(out, rel))
                m['pipelines'].append({'jpeg': f, 'interpolation': iname, 'size': size, 'file': rel})

    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump(m, fh, indent=1)
    print(f"wrote {len(m['decode'])} decodes, {len(m['resize'])} resizes, {len(m['pipelines'])} pipelines to {out}", file=sys.stderr)


if __name__ == '__main__':
    main()
