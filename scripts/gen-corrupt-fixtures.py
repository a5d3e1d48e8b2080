#!/usr/bin/python3
"""Reference outputs of the 15 ImageNet-C corruptions (issue 8) for the parity tests.

Run with Debian's interpreter (python3-numpy, -scipy, -skimage, -opencv, -pil, -wand; never pip):
    /usr/bin/python3 scripts/gen-corrupt-fixtures.py --out test/.generated/corrupt [--frost-dir DIR]
The mocha tests (test/parity/corrupt-*.test.ts) run it themselves when the folder is missing or stale.

Each corruption follows the reference (hendrycks/robustness ImageNet-C/imagenet_c/imagenet_c/corruptions.py
and make_imagenet_c.py: np.uint8 truncation of the result), calling the same library functions with the
same dtypes; the random draws are made here with seeded generators and written next to the outputs so that
the TypeScript side can inject them: noise arrays (gaussian), Poisson counts (shot), flip/salt masks
(impulse, from skimage's own random_noise with a seed), glass offsets, motion/snow angles, the snow layer,
the fog plasma map (and the uniform stream that made it), elastic jitters and fields, frost texture index
and crop. The severity tables are the 224 / 64 / 32 columns; the algorithms are the 224 reference's.

Inputs are public-domain / CC0 photographs bundled with scikit-image (chelsea, coffee), centre-cropped and
resized with Pillow BILINEAR to 224, 64 and 32 pixels ("natural images" for the acceptance bounds).

Written: manifest.json (versions, script hash filled in by the caller's check, cases), in/*.rgb, out/*.rgb,
draws/*.bin (little-endian raw arrays; dtype and shape in the manifest).
"""
import argparse
import ctypes
import io
import json
import os
import platform
import sys

import cv2
import numpy as np
import PIL
import scipy
import skimage
from PIL import Image
from scipy.ndimage import map_coordinates
from scipy.ndimage import zoom as scizoom
from skimage.filters import gaussian
from wand.image import Image as WandImage
import wand.version

TABLES = {
    224: {
        'gaussian_noise': [.08, .12, 0.18, 0.26, 0.38],
        'shot_noise': [60, 25, 12, 5, 3],
        'impulse_noise': [.03, .06, .09, 0.17, 0.27],
        'defocus_blur': [(3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)],
        'glass_blur': [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)],
        'motion_blur': [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)],
        'zoom_blur': [(1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03)],
        'snow': [(0.1, 0.3, 3, 0.5, 10, 4, 0.8), (0.2, 0.3, 2, 0.5, 12, 4, 0.7), (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
                 (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65), (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55)],
        'frost': [(1, 0.4), (0.8, 0.6), (0.7, 0.7), (0.65, 0.7), (0.6, 0.75)],
        'fog': [(1.5, 2), (2., 2), (2.5, 1.7), (2.5, 1.5), (3., 1.4)],
        'brightness': [.1, .2, .3, .4, .5],
        'contrast': [0.4, .3, .2, .1, .05],
        'elastic_transform': [(244 * 2, 244 * 0.7, 244 * 0.1), (244 * 2, 244 * 0.08, 244 * 0.2),
                              (244 * 0.05, 244 * 0.01, 244 * 0.02), (244 * 0.07, 244 * 0.01, 244 * 0.02),
                              (244 * 0.12, 244 * 0.01, 244 * 0.02)],
        'pixelate': [0.6, 0.5, 0.4, 0.3, 0.25],
        'jpeg_compression': [25, 18, 15, 10, 7],
    },
    64: {
        'gaussian_noise': [.04, .08, .12, .15, .18],
        'shot_noise': [250, 100, 50, 30, 15],
        'impulse_noise': [.01, .02, .05, .08, .14],
        'defocus_blur': [(.5, .6), (1, .1), (1.5, .1), (2.5, .01), (3, .1)],
        'glass_blur': [(0.1, 1, 1), (0.5, 1, 1), (0.6, 1, 2), (0.7, 2, 1), (0.9, 2, 2)],
        'motion_blur': [(10, 1), (10, 1.5), (10, 2), (10, 2.5), (12, 3)],
        'zoom_blur': [(1.06, .01), (1.11, .01), (1.16, .01), (1.21, .01), (1.26, .01)],
        'snow': [(0.1, 0.2, 1, 0.6, 8, 3, 0.8), (0.1, 0.2, 1, 0.5, 10, 4, 0.8), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.7),
                 (0.25, 0.3, 2.25, 0.6, 12, 6, 0.65), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.6)],
        'frost': [(1, 0.3), (0.9, 0.4), (0.8, 0.45), (0.75, 0.5), (0.7, 0.55)],
        'fog': [(.4, 3), (.7, 3), (1, 2.5), (1.5, 2), (2, 1.75)],
        'brightness': [.1, .2, .3, .4, .5],
        'contrast': [.4, .3, .2, .1, .05],
        'elastic_transform': [(64 * 0, 64 * 0, 64 * 0.08), (64 * 0.05, 64 * 0.3, 64 * 0.06), (64 * 0.1, 64 * 0.08, 64 * 0.06),
                              (64 * 0.1, 64 * 0.03, 64 * 0.03), (64 * 0.16, 64 * 0.03, 64 * 0.02)],
        'pixelate': [0.9, 0.8, 0.7, 0.6, 0.5],
        'jpeg_compression': [65, 58, 50, 40, 25],
    },
    32: {
        'gaussian_noise': [0.04, 0.06, .08, .09, .10],
        'shot_noise': [500, 250, 100, 75, 50],
        'impulse_noise': [.01, .02, .03, .05, .07],
        'defocus_blur': [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)],
        'glass_blur': [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)],
        'motion_blur': [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)],
        'zoom_blur': [(1.06, .01), (1.11, .01), (1.16, .01), (1.21, .01), (1.26, .01)],
        'snow': [(0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
                 (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)],
        'frost': [(1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)],
        'fog': [(.2, 3), (.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)],
        'brightness': [.05, .1, .15, .2, .3],
        'contrast': [.75, .5, .4, .3, 0.15],
        'elastic_transform': [(32 * 0, 32 * 0, 32 * 0.08), (32 * 0.05, 32 * 0.2, 32 * 0.07), (32 * 0.08, 32 * 0.06, 32 * 0.06),
                              (32 * 0.1, 32 * 0.04, 32 * 0.05), (32 * 0.1, 32 * 0.03, 32 * 0.03)],
        'pixelate': [0.95, 0.9, 0.85, 0.75, 0.65],
        'jpeg_compression': [80, 65, 58, 50, 40],
    },
}
FROST_SCALE = {224: 1.0, 64: 0.3, 32: 0.2}
FOG_MAPSIZE = {224: 256, 64: 64, 32: 32}
FROST_FILES = ['frost1.png', 'frost2.png', 'frost3.png', 'frost4.jpg', 'frost5.jpg']


def u8(x):
    return np.uint8(x)  # make_imagenet_c: truncation


# ---- helpers as the reference has them ------------------------------------------------------------
def disk(radius, alias_blur=0.1, dtype=np.float32):
    if radius <= 8:
        L = np.arange(-8, 8 + 1)
        ksize = (3, 3)
    else:
        L = np.arange(-radius, radius + 1)
        ksize = (5, 5)
    X, Y = np.meshgrid(L, L)
    d = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=dtype)
    d /= np.sum(d)
    return cv2.GaussianBlur(d, ksize=ksize, sigmaX=alias_blur)


def wand_motion(png_bytes, radius, sigma, angle):
    with WandImage(blob=png_bytes) as im:
        im.motion_blur(radius=radius, sigma=sigma, angle=angle)
        return cv2.imdecode(np.frombuffer(im.make_blob(), np.uint8), cv2.IMREAD_UNCHANGED)


def clipped_zoom(img, zoom_factor):
    h = img.shape[0]
    ch = int(np.ceil(h / float(zoom_factor)))
    top = (h - ch) // 2
    img = scizoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
    trim_top = (img.shape[0] - h) // 2
    return img[trim_top:trim_top + h, trim_top:trim_top + h]


def plasma(mapsize, wibbledecay, uniform):
    """Diamond-square as the reference's plasma_fractal; `uniform(low, high, shape)` supplies the draws."""
    m = np.empty((mapsize, mapsize), dtype=np.float64)
    m[0, 0] = 0
    step = mapsize
    wib = [100.0]

    def wmean(a):
        return a / 4 + wib[0] * uniform(-wib[0], wib[0], a.shape)

    while step >= 2:
        c = m[0:mapsize:step, 0:mapsize:step]
        sq = c + np.roll(c, shift=-1, axis=0)
        sq += np.roll(sq, shift=-1, axis=1)
        m[step // 2:mapsize:step, step // 2:mapsize:step] = wmean(sq)
        dr = m[step // 2:mapsize:step, step // 2:mapsize:step]
        ul = m[0:mapsize:step, 0:mapsize:step]
        lt = (dr + np.roll(dr, 1, axis=0)) + (ul + np.roll(ul, -1, axis=1))
        m[0:mapsize:step, step // 2:mapsize:step] = wmean(lt)
        tt = (dr + np.roll(dr, 1, axis=1)) + (ul + np.roll(ul, -1, axis=0))
        m[step // 2:mapsize:step, 0:mapsize:step] = wmean(tt)
        step //= 2
        wib[0] /= wibbledecay
    m -= m.min()
    return m / m.max()


# ---- the corruptions with injected draws -----------------------------------------------------------
class Case:
    def __init__(self, out, cid, sev, name, img, col):
        self.out, self.cid, self.sev, self.name, self.img, self.col = out, cid, sev, name, img, col
        self.draws, self.scalars = {}, {}
        self.key = f'{cid}_s{sev}_{name}'

    def draw(self, label, arr):
        arr = np.ascontiguousarray(arr)
        f = f'draws/{self.key}.{label}.bin'
        arr.astype(arr.dtype.newbyteorder('<')).tofile(os.path.join(self.out, f))
        self.draws[label] = {'file': f, 'dtype': str(arr.dtype), 'shape': list(arr.shape)}
        return arr


def run_case(case, rs, frost_dir):
    cid, x, c = case.cid, case.img, TABLES[case.col][case.cid][case.sev - 1]
    H, W = x.shape[:2]
    xf = x / 255.
    if cid == 'gaussian_noise':
        noise = case.draw('noise', rs.normal(size=x.shape, scale=c))
        return np.clip(xf + noise, 0, 1) * 255
    if cid == 'shot_noise':
        counts = rs.poisson(xf * c)
        case.draw('counts', counts.astype(np.float64))
        return np.clip(counts / float(c), 0, 1) * 255
    if cid == 'impulse_noise':
        seed = int(rs.randint(1 << 30))
        g = np.random.default_rng(seed)
        flipped = g.random(x.shape) <= c
        salted = g.random(x.shape) <= 0.5
        case.draw('flipped', flipped.astype(np.uint8))
        case.draw('salted', salted.astype(np.uint8))
        out = skimage.util.random_noise(xf, mode='s&p', amount=c, seed=seed)
        return np.clip(out, 0, 1) * 255
    if cid == 'defocus_blur':
        k = disk(radius=c[0], alias_blur=c[1])
        ch = np.array([cv2.filter2D(xf[:, :, d], -1, k) for d in range(3)]).transpose((1, 2, 0))
        return np.clip(ch, 0, 1) * 255
    if cid == 'glass_blur':
        y = np.uint8(gaussian(xf, sigma=c[0], multichannel=True) * 255)
        offs = []
        for _ in range(c[2]):
            for h in range(H - c[1], c[1], -1):
                for w in range(W - c[1], c[1], -1):
                    dx, dy = rs.randint(-c[1], c[1], size=(2,))
                    offs.append((dx, dy))
                    hp, wp = h + dy, w + dx
                    y[h, w], y[hp, wp] = y[hp, wp], y[h, w]
        case.draw('offsets', np.array(offs, dtype=np.int32).reshape(-1))
        return np.clip(gaussian(y / 255., sigma=c[0], multichannel=True), 0, 1) * 255
    if cid == 'motion_blur':
        angle = float(rs.uniform(-45, 45))
        case.scalars['angle'] = angle
        buf = io.BytesIO()
        Image.fromarray(x).save(buf, format='PNG')
        y = wand_motion(buf.getvalue(), c[0], c[1], angle)
        if y.ndim == 3:
            return np.clip(y[..., [2, 1, 0]], 0, 255)
        return np.clip(np.array([y, y, y]).transpose((1, 2, 0)), 0, 255)
    if cid == 'zoom_blur':
        zs = np.arange(1, c[0], c[1])
        y = (x / 255.).astype(np.float32)
        out = np.zeros_like(y)
        for z in zs:
            out += clipped_zoom(y, z)
        y = (y + out) / (len(zs) + 1)
        return np.clip(y, 0, 1) * 255
    if cid == 'snow':
        y = np.array(x, dtype=np.float32) / 255.
        layer = case.draw('layer', rs.normal(size=y.shape[:2], loc=c[0], scale=c[1]))
        angle = float(rs.uniform(-135, -45))
        case.scalars['angle'] = angle
        layer = clipped_zoom(layer[..., np.newaxis], c[2])
        layer[layer < c[3]] = 0
        L = Image.fromarray((np.clip(layer.squeeze(), 0, 1) * 255).astype(np.uint8), mode='L')
        buf = io.BytesIO()
        L.save(buf, format='PNG')
        layer = wand_motion(buf.getvalue(), c[4], c[5], angle) / 255.
        layer = layer[..., np.newaxis]
        y = c[6] * y + (1 - c[6]) * np.maximum(y, cv2.cvtColor(y, cv2.COLOR_RGB2GRAY).reshape(H, W, 1) * 1.5 + 0.5)
        return np.clip(y + layer + np.rot90(layer, k=2), 0, 1) * 255
    if cid == 'frost':
        if frost_dir is None:
            return None
        idx = int(rs.randint(5))
        fr = cv2.imread(os.path.join(frost_dir, FROST_FILES[idx]))
        if FROST_SCALE[case.col] != 1.0:
            fr = cv2.resize(fr, (0, 0), fx=FROST_SCALE[case.col], fy=FROST_SCALE[case.col])
        top, left = int(rs.randint(0, fr.shape[0] - H)), int(rs.randint(0, fr.shape[1] - W))
        case.scalars.update(index=idx, top=top, left=left)
        fr = fr[top:top + H, left:left + W][..., [2, 1, 0]]
        return np.clip(c[0] * np.array(x) + c[1] * fr, 0, 255)
    if cid == 'fog':
        us = []

        def uniform(lo, hi, shape):
            u = rs.random_sample(shape)
            us.append(u.reshape(-1))
            return lo + (hi - lo) * u
        ms = FOG_MAPSIZE[case.col]
        p = plasma(ms, c[1], uniform)
        case.draw('plasma', p)
        case.draw('uniforms', np.concatenate(us))
        case.scalars['mapsize'] = ms
        y = xf.copy()
        mx = y.max()
        y += c[0] * p[:H, :W][..., np.newaxis]
        return np.clip(y * mx / (mx + c[0]), 0, 1) * 255
    if cid == 'brightness':
        y = skimage.color.rgb2hsv(xf)
        y[:, :, 2] = np.clip(y[:, :, 2] + c, 0, 1)
        return np.clip(skimage.color.hsv2rgb(y), 0, 1) * 255
    if cid == 'contrast':
        m = np.mean(xf, axis=(0, 1), keepdims=True)
        return np.clip((xf - m) * c + m, 0, 1) * 255
    if cid == 'elastic_transform':
        image = np.array(x, dtype=np.float32) / 255.
        shape = image.shape
        ss = shape[:2]
        cs = np.float32(ss) // 2
        sq = min(ss) // 3
        pts1 = np.float32([cs + sq, [cs[0] + sq, cs[1] - sq], cs - sq])
        jit = case.draw('jitter', rs.uniform(-c[2], c[2], size=pts1.shape).astype(np.float32))
        pts2 = pts1 + jit
        M = cv2.getAffineTransform(pts1, pts2)
        image = cv2.warpAffine(image, M, ss[::-1], borderMode=cv2.BORDER_REFLECT_101)
        ux = case.draw('ux', rs.uniform(-1, 1, size=shape[:2]))
        uy = case.draw('uy', rs.uniform(-1, 1, size=shape[:2]))
        dx = (gaussian(ux, c[1], mode='reflect', truncate=3) * c[0]).astype(np.float32)
        dy = (gaussian(uy, c[1], mode='reflect', truncate=3) * c[0]).astype(np.float32)
        dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]
        gx, gy, gz = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
        ind = np.reshape(gy + dy, (-1, 1)), np.reshape(gx + dx, (-1, 1)), np.reshape(gz, (-1, 1))
        return np.clip(map_coordinates(image, ind, order=1, mode='reflect').reshape(shape), 0, 1) * 255
    if cid == 'pixelate':
        im = Image.fromarray(x)
        im = im.resize((int(W * c), int(H * c)), Image.BOX).resize((W, H), Image.BOX)
        return np.array(im)
    if cid == 'jpeg_compression':
        buf = io.BytesIO()
        Image.fromarray(x).save(buf, 'JPEG', quality=c)
        return np.array(Image.open(buf))
    raise ValueError(cid)


def check_plasma_matches_reference():
    """Our plasma() with RandomState(s).random_sample draws equals the reference's use of np.random."""
    np.random.seed(5)
    a = plasma(32, 2.0, lambda lo, hi, shape: np.random.uniform(lo, hi, shape))
    rs = np.random.RandomState(5)
    b = plasma(32, 2.0, lambda lo, hi, shape: lo + (hi - lo) * rs.random_sample(shape))
    assert np.array_equal(a, b), 'plasma draw mapping differs from np.random.uniform'


def load_inputs():
    import skimage.data as sd
    out = {}
    for name, arr in (('cat', sd.chelsea()), ('coffee', sd.coffee())):
        h, w = arr.shape[:2]
        s = min(h, w)
        im = Image.fromarray(arr).crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        for size in (224, 64, 32):
            out[f'{name}{size}'] = np.array(im.resize((size, size), Image.BILINEAR))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--frost-dir', default=None)
    args = ap.parse_args()
    frost_dir = args.frost_dir if args.frost_dir and os.path.isdir(args.frost_dir) else None
    for d in ('in', 'out', 'draws'):
        os.makedirs(os.path.join(args.out, d), exist_ok=True)
    check_plasma_matches_reference()
    inputs = load_inputs()
    for k, v in inputs.items():
        v.tofile(os.path.join(args.out, 'in', f'{k}.rgb'))
    ids = list(TABLES[224].keys())
    plan = []
    for cid in ids:
        imgs = ['cat224', 'cat64', 'cat32']
        if cid in ('brightness', 'contrast', 'pixelate', 'jpeg_compression', 'defocus_blur', 'zoom_blur', 'motion_blur', 'elastic_transform'):
            imgs.append('coffee224')
        plan += [(cid, s, n) for n in imgs for s in range(1, 6)]
    cases = []
    for i, (cid, sev, name) in enumerate(plan):
        x = inputs[name]
        col = int(name[-3:]) if name.endswith('224') else int(name[-2:])
        case = Case(args.out, cid, sev, name, x, col)
        rs = np.random.RandomState(1000 + i)
        y = run_case(case, rs, frost_dir)
        if y is None:
            continue
        y = u8(y)
        assert y.shape == x.shape and y.dtype == np.uint8, (cid, y.shape, y.dtype)
        f = f'out/{case.key}.rgb'
        y.tofile(os.path.join(args.out, f))
        cases.append({'id': cid, 'severity': sev, 'image': name, 'column': col, 'file': f,
                      'draws': case.draws, 'scalars': case.scalars})
    manifest = {
        'versions': {'python': platform.python_version(), 'numpy': np.__version__, 'scipy': scipy.__version__,
                     'skimage': skimage.__version__, 'opencv': cv2.__version__, 'pillow': PIL.__version__,
                     'wand': wand.version.VERSION, 'imagemagick': wand.version.MAGICK_VERSION},
        'frost': frost_dir is not None,
        'inputs': {k: {'file': f'in/{k}.rgb', 'width': v.shape[1], 'height': v.shape[0]} for k, v in inputs.items()},
        'cases': cases,
    }
    with open(os.path.join(args.out, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
