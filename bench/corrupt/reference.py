#!/usr/bin/python3
"""Python side of bench/corrupt: the reference corruptions (as scripts/gen-corrupt-fixtures.py runs them,
drawing their own random numbers from numpy) timed on the same 224x224 images as ours.

  /usr/bin/python3 bench/corrupt/reference.py --make-inputs DIR --n N     writes DIR/in<k>.rgb (224x224x3)
  /usr/bin/python3 bench/corrupt/reference.py --time DIR --n N --reps R [--frost-dir D] [--only a,b]
prints one JSON object: {"versions": {...}, "seconds": {"<id>": median seconds for the N images}}.
"""
import argparse
import importlib.util
import json
import os
import statistics
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('genfix', os.path.join(HERE, '..', '..', 'scripts', 'gen-corrupt-fixtures.py'))
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


class NoFiles(gen.Case):
    def draw(self, label, arr):
        return np.ascontiguousarray(arr)


def make_inputs(d, n):
    import skimage.data as sd
    srcs = [sd.chelsea(), sd.coffee(), sd.astronaut(), sd.rocket()]
    os.makedirs(d, exist_ok=True)
    for k in range(n):
        a = srcs[k % len(srcs)]
        h, w = a.shape[:2]
        s = min(h, w) - 8 * (k // len(srcs))
        im = Image.fromarray(a).crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize((224, 224), Image.BILINEAR)
        np.array(im).tofile(os.path.join(d, f'in{k}.rgb'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--make-inputs')
    ap.add_argument('--time')
    ap.add_argument('--n', type=int, default=4)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--severity', type=int, default=3)
    ap.add_argument('--frost-dir')
    ap.add_argument('--only')
    a = ap.parse_args()
    if a.make_inputs:
        make_inputs(a.make_inputs, a.n)
        return
    imgs = [np.fromfile(os.path.join(a.time, f'in{k}.rgb'), np.uint8).reshape(224, 224, 3) for k in range(a.n)]
    ids = a.only.split(',') if a.only else list(gen.TABLES[224].keys())
    rs = np.random.RandomState(0)
    out = {}
    for cid in ids:
        if cid == 'frost' and not a.frost_dir:
            continue
        times = []
        for r in range(a.reps + 1):
            t0 = time.perf_counter()
            for x in imgs:
                y = gen.run_case(NoFiles('/nonexistent', cid, a.severity, 'b', x, 224), rs, a.frost_dir)
                y = np.uint8(y)
            if r > 0:  # the first pass warms up
                times.append(time.perf_counter() - t0)
        out[cid] = statistics.median(times)
    import cv2, scipy, skimage, PIL, wand.version
    print(json.dumps({'versions': {'numpy': np.__version__, 'scipy': scipy.__version__, 'skimage': skimage.__version__,
                                   'opencv': cv2.__version__, 'pillow': PIL.__version__, 'imagemagick': wand.version.MAGICK_VERSION},
                      'seconds': out}))


if __name__ == '__main__':
    main()
