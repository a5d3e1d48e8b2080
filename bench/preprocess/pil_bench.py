#!/usr/bin/python3
"""Pillow side of bench/preprocess (run by bench/preprocess/run.ts; Debian python3-pil, never pip).

  pil_bench.py make DIR N            writes N synthetic 500x375 photo-like JPEGs (quality 90, 4:2:0) into DIR
  pil_bench.py time SIZE MODE REPS ITERS FILE...
                                     times Pillow's decode + resize + centre crop + tobytes (torchvision's
                                     Resize/CenterCrop geometry, bilinear) over the files, ITERS passes per
                                     repetition; prints one JSON line {"pillow", "perImageMs": [per repetition]}
"""
import io
import json
import os
import random
import sys
import time

import PIL
from PIL import Image


def make(d, n):
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        r = random.Random(1000 + i)
        w, h = 500, 375
        im = Image.new('RGB', (w, h))
        px = im.load()
        shapes = [(r.randrange(w), r.randrange(h), r.randrange(10, 120), tuple(r.randrange(256) for _ in range(3))) for _ in range(12)]
        for y in range(h):
            for x in range(w):
                c = (x * 255 // w, y * 255 // h, (x + y) % 256)
                for (cx, cy, rad, col) in shapes:
                    if (x - cx) ** 2 + (y - cy) ** 2 < rad * rad:
                        c = col
                px[x, y] = tuple(max(0, min(255, v + r.randrange(-12, 13))) for v in c)
        im.save(os.path.join(d, 'bench_%02d.jpg' % i), 'JPEG', quality=90)


def geometry(w, h, s, mode):
    t = (s * 8) // 7
    if mode == 'square':
        rw = rh = t
    elif w <= h:
        rw, rh = t, int(t * h / w)
    else:
        rh, rw = t, int(t * w / h)
    return rw, rh, int(round((rw - s) / 2.0)), int(round((rh - s) / 2.0))


def run(size, mode, reps, iters, files):
    blobs = [open(f, 'rb').read() for f in files]

    def once(b):
        im = Image.open(io.BytesIO(b)).convert('RGB')
        rw, rh, left, top = geometry(im.width, im.height, size, mode)
        return im.resize((rw, rh), Image.BILINEAR).crop((left, top, left + size, top + size)).tobytes()

    for b in blobs:  # warm-up
        once(b)
    per = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            for b in blobs:
                once(b)
        per.append((time.perf_counter() - t0) * 1000.0 / (iters * len(blobs)))
    print(json.dumps({'pillow': PIL.__version__, 'perImageMs': per}))


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2], int(sys.argv[3]))
    else:
        run(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:])
