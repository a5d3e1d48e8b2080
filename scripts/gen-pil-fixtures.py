#!/usr/bin/python3
"""Generates the Pillow / djpeg parity fixtures of issue 6 into a folder (default test/.generated/pil).

Run with Debian's interpreter (python3-pil; never pip):  /usr/bin/python3 scripts/gen-pil-fixtures.py [--out DIR]
The mocha tests (test/parity/pil-*.test.ts, test/unit/systematic/*.test.ts) run it themselves when the folder
is missing or was made by another version of this script.

Everything is deterministic (random.Random with fixed seeds). Written:
  manifest.json     versions (Pillow, Python, djpeg) and every case below
  in/*.rgb          raw interleaved RGB sources (random noise, a 0/255 checkerboard, a smooth "photo")
  resize/*.rgb      Pillow im.resize((w, h), filter) of a source, >= 200 cases over the six filters
  reduce/*.rgb      Pillow im.reduce((fx, fy))
  jpeg/*.jpg        fixture JPEGs: 4:2:0, 4:4:4, 4:2:2, greyscale, progressive, odd and tiny sizes (Pillow),
                    restart markers and 4:4:0 (cjpeg)
  djpeg/*.pnm       djpeg -dct int|fast|float [-nosmooth] of each fixture JPEG
  pildec/*.rgb      Pillow Image.open(f).convert('RGB') of each fixture JPEG
  enc/*.jpg, *.rgb  Pillow save(quality=q) of a source, and Pillow's decode of that file
  pipe/*.rgb        full pipelines computed with Pillow: decode (Pillow, or djpeg for the ifast / no-fancy
                    decoders), ONECROP (shorter side to floor(S*8/7), torchvision's truncation and
                    round-half-even centre crop) or the ImageNet-S square resize, for every Pillow filter
"""
import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import subprocess
import sys

import PIL
from PIL import Image

GENERATOR_VERSION = 1

FILTERS = {
    'nearest': Image.NEAREST,
    'box': Image.BOX,
    'bilinear': Image.BILINEAR,
    'hamming': Image.HAMMING,
    'bicubic': Image.BICUBIC,
    'lanczos': Image.LANCZOS,
}


def noise_image(w, h, seed):
    r = random.Random(seed)
    return Image.frombytes('RGB', (w, h), bytes(r.getrandbits(8) for _ in range(w * h * 3)))


def checker_image(w, h):
    data = bytearray()
    for y in range(h):
        for x in range(w):
            v = 255 if ((x // 2) + (y // 3)) % 2 else 0
            data += bytes((v, 255 - v, v))
    return Image.frombytes('RGB', (w, h), bytes(data))


def photo_image(w, h, seed):
    """Smooth gradients, a few hard-edged shapes and mild noise: exercises chroma upsampling and the IDCT."""
    r = random.Random(seed)
    data = bytearray(w * h * 3)
    shapes = [(r.randrange(w), r.randrange(h), r.randrange(3, max(4, min(w, h) // 2 + 4)), tuple(r.randrange(256) for _ in range(3)))
              for _ in range(6)]
    for y in range(h):
        for x in range(w):
            px = [int(255 * x / max(1, w - 1)), int(255 * y / max(1, h - 1)), int(128 + 100 * ((x + y) % 37) / 37 - 50)]
            for (cx, cy, rad, col) in shapes:
                if (x - cx) ** 2 + (y - cy) ** 2 < rad * rad:
                    px = list(col)
            i = (y * w + x) * 3
            for c in range(3):
                data[i + c] = max(0, min(255, px[c] + r.randrange(-6, 7)))
    return Image.frombytes('RGB', (w, h), bytes(data))


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def djpeg_version():
    try:
        p = subprocess.run(['djpeg', '-version'], capture_output=True, text=True, check=False)
        return (p.stderr or p.stdout).strip().splitlines()[0]
    except FileNotFoundError:
        return None


def onecrop_geometry(w, h, s):
    """torchvision Resize(int(s*8/7)) + CenterCrop(s) on a PIL image (torchvision 0.14 semantics)."""
    t = (s * 8) // 7
    if w <= h:
        rw, rh = t, int(t * h / w)
    else:
        rh, rw = t, int(t * w / h)
    return rw, rh, int(round((rw - s) / 2.0)), int(round((rh - s) / 2.0))


def square_geometry(s):
    t = (s * 8) // 7
    return t, t, int(round((t - s) / 2.0)), int(round((t - s) / 2.0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', '.generated', 'pil'))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    for d in ('in', 'resize', 'reduce', 'jpeg', 'djpeg', 'pildec', 'enc', 'pipe'):
        os.makedirs(os.path.join(out, d))
    with open(os.path.abspath(__file__), 'rb') as f:
        script_sha = hashlib.sha256(f.read()).hexdigest()

    manifest = {
        'generator': 'scripts/gen-pil-fixtures.py', 'generatorVersion': GENERATOR_VERSION, 'scriptSha256': script_sha,
        'versions': {'pillow': PIL.__version__, 'python': platform.python_version(), 'djpeg': djpeg_version()},
        'inputs': {}, 'resize': [], 'reduce': [], 'jpeg': [], 'encode': [], 'pipelines': [],
    }

    # ---- resize ---------------------------------------------------------------------------------
    sources = {
        'n1x1': noise_image(1, 1, 1), 'n2x3': noise_image(2, 3, 2), 'n7x5': noise_image(7, 5, 3),
        'n13x17': noise_image(13, 17, 4), 'n31x29': noise_image(31, 29, 5), 'n64x48': noise_image(64, 48, 6),
        'n97x101': noise_image(97, 101, 7), 'n500x375': noise_image(500, 375, 8), 'n211x500': noise_image(211, 500, 9),
        'check16': checker_image(16, 16), 'photo120x90': photo_image(120, 90, 10),
    }
    for name, im in sources.items():
        write(os.path.join(out, 'in', name + '.rgb'), im.tobytes())
        manifest['inputs'][name] = {'file': 'in/%s.rgb' % name, 'width': im.width, 'height': im.height}
    targets = {
        'n1x1': [(1, 1), (3, 2), (5, 7)],
        'n2x3': [(1, 1), (5, 7), (2, 1)],
        'n7x5': [(3, 2), (14, 10), (7, 3), (11, 5), (2, 13)],
        'n13x17': [(6, 8), (1, 17), (29, 31), (13, 1), (5, 3)],
        'n31x29': [(17, 11), (62, 58), (7, 7), (31, 30), (97, 13)],
        'n64x48': [(32, 24), (36, 27), (48, 36), (128, 96), (63, 47), (23, 19)],
        'n97x101': [(36, 37), (41, 43), (256, 263), (3, 3), (100, 97)],
        'n500x375': [(341, 256), (256, 256), (224, 224), (37, 29), (499, 374)],
        'n211x500': [(256, 606), (36, 85), (223, 227)],
        'check16': [(7, 9), (33, 35), (15, 16)],
        'photo120x90': [(45, 34), (341, 256), (36, 36)],
    }
    for src, sizes in targets.items():
        im = sources[src]
        for (w, h) in sizes:
            for fname, fid in FILTERS.items():
                case = '%s_%s_%dx%d' % (src, fname, w, h)
                res = im.resize((w, h), fid)
                write(os.path.join(out, 'resize', case + '.rgb'), res.tobytes())
                manifest['resize'].append({'id': case, 'source': src, 'filter': fname, 'width': w, 'height': h,
                                           'file': 'resize/%s.rgb' % case})

    # ---- reduce ---------------------------------------------------------------------------------
    for src, factors in {
        'n7x5': [(2, 2), (3, 3), (7, 5), (1, 2)],
        'n13x17': [(2, 2), (3, 3), (4, 4), (5, 5), (2, 3), (6, 1), (1, 4)],
        'n64x48': [(2, 2), (4, 4), (6, 6), (8, 5), (7, 7)],
        'n97x101': [(3, 3), (5, 5), (2, 7), (10, 10), (13, 1)],
        'check16': [(2, 2), (3, 5)],
    }.items():
        im = sources[src]
        for (fx, fy) in factors:
            case = '%s_reduce_%dx%d' % (src, fx, fy)
            res = im.reduce((fx, fy))
            write(os.path.join(out, 'reduce', case + '.rgb'), res.tobytes())
            manifest['reduce'].append({'id': case, 'source': src, 'fx': fx, 'fy': fy, 'width': res.width,
                                       'height': res.height, 'file': 'reduce/%s.rgb' % case})

    # ---- fixture JPEGs ----------------------------------------------------------------------------
    photo = photo_image(227, 149, 20)
    jpegs = []

    def pil_jpeg(name, im, **kw):
        path = os.path.join(out, 'jpeg', name + '.jpg')
        im.save(path, 'JPEG', **kw)
        jpegs.append((name, {k: (v if not isinstance(v, bytes) else '<%d bytes>' % len(v)) for k, v in kw.items()}))

    pil_jpeg('rgb420_227x149', photo, quality=90)
    pil_jpeg('rgb444_227x149', photo, quality=95, subsampling=0)
    pil_jpeg('rgb422_227x149', photo, quality=80, subsampling=1)
    pil_jpeg('grey_101x77', photo_image(101, 77, 21).convert('L'), quality=85)
    pil_jpeg('progressive_160x120', photo_image(160, 120, 22), quality=75, progressive=True)
    pil_jpeg('progressive444_65x33', photo_image(65, 33, 23), quality=92, progressive=True, subsampling=0)
    pil_jpeg('tiny_1x1', photo_image(1, 1, 24), quality=90)
    pil_jpeg('odd_17x3', photo_image(17, 3, 25), quality=60)
    pil_jpeg('portrait_75x131', photo_image(75, 131, 26), quality=88)
    pil_jpeg('bench_500x375', photo_image(500, 375, 27), quality=75)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW on display; Pillow (and we) ignore it when decoding
    pil_jpeg('exif_orient6_64x40', photo_image(64, 40, 30), quality=90, exif=exif.tobytes())
    have_cjpeg = shutil.which('cjpeg') is not None
    if have_cjpeg:
        ppm = os.path.join(out, 'jpeg', 'src.ppm')
        photo_image(93, 61, 28).save(ppm)
        for name, extra in (('restart_93x61', ['-restart', '1', '-quality', '85']),
                            ('restart444_93x61', ['-restart', '2', '-sample', '1x1', '-quality', '90']),
                            ('rgb440_93x61', ['-sample', '1x2', '-quality', '85'])):
            subprocess.run(['cjpeg'] + extra + ['-outfile', os.path.join(out, 'jpeg', name + '.jpg'), ppm], check=True)
            jpegs.append((name, {'cjpeg': ' '.join(extra)}))
        os.remove(ppm)
    have_djpeg = shutil.which('djpeg') is not None
    for name, how in jpegs:
        path = os.path.join(out, 'jpeg', name + '.jpg')
        im = Image.open(path)
        entry = {'id': name, 'file': 'jpeg/%s.jpg' % name, 'made': how, 'mode': im.mode, 'width': im.width,
                 'height': im.height, 'pillow': 'pildec/%s.rgb' % name, 'djpeg': {}}
        write(os.path.join(out, 'pildec', name + '.rgb'), im.convert('RGB').tobytes())
        if have_djpeg:
            for dct in ('int', 'fast', 'float'):
                for smooth in (True, False):
                    key = dct + ('' if smooth else '-nosmooth')
                    dst = os.path.join(out, 'djpeg', '%s.%s.pnm' % (name, key))
                    cmd = ['djpeg', '-dct', dct] + ([] if smooth else ['-nosmooth']) + ['-outfile', dst, path]
                    subprocess.run(cmd, check=True)
                    entry['djpeg'][key] = 'djpeg/%s.%s.pnm' % (name, key)
        manifest['jpeg'].append(entry)
    # CMYK (Pillow always reads Adobe polarity, then convert('RGB')); not in 'jpeg': djpeg cannot write it as PPM.
    cmyk_path = os.path.join(out, 'jpeg', 'cmyk_40x30.jpg')
    photo_image(40, 30, 31).convert('CMYK').save(cmyk_path, 'JPEG', quality=90)
    write(os.path.join(out, 'pildec', 'cmyk_40x30.rgb'), Image.open(cmyk_path).convert('RGB').tobytes())
    manifest['cmyk'] = {'file': 'jpeg/cmyk_40x30.jpg', 'pillow': 'pildec/cmyk_40x30.rgb', 'mode': Image.open(cmyk_path).mode}

    # ---- encoder: Pillow save(quality=q), then Pillow's decode ---------------------------------------
    enc_sources = {'photo227x149': photo, 'noise64x48': sources['n64x48'], 'photo17x3': photo_image(17, 3, 29),
                   'photo120x90': sources['photo120x90']}
    for name, im in enc_sources.items():
        if name not in manifest['inputs']:
            write(os.path.join(out, 'in', name + '.rgb'), im.tobytes())
            manifest['inputs'][name] = {'file': 'in/%s.rgb' % name, 'width': im.width, 'height': im.height}
        for q in (1, 10, 25, 50, 75, 90, 95, 100):
            case = '%s_q%d' % (name, q)
            jpath = os.path.join(out, 'enc', case + '.jpg')
            im.save(jpath, 'JPEG', quality=q)
            write(os.path.join(out, 'enc', case + '.rgb'), Image.open(jpath).convert('RGB').tobytes())
            manifest['encode'].append({'id': case, 'source': name, 'quality': q, 'jpeg': 'enc/%s.jpg' % case,
                                       'decoded': 'enc/%s.rgb' % case})

    # ---- pipelines --------------------------------------------------------------------------------
    decoders = {'pil': None, 'nvjpeg-like': 'int-nosmooth', 'tf-fast': 'fast'}
    for jname in ('rgb420_227x149', 'grey_101x77', 'portrait_75x131', 'bench_500x375', 'progressive_160x120'):
        jpath = os.path.join(out, 'jpeg', jname + '.jpg')
        for dec, djkey in decoders.items():
            if djkey is None:
                base = Image.open(jpath).convert('RGB')
            elif have_djpeg:
                base = Image.open(os.path.join(out, 'djpeg', '%s.%s.pnm' % (jname, djkey))).convert('RGB')
            else:
                continue
            filters = FILTERS.items() if dec == 'pil' else [('bilinear', Image.BILINEAR)]
            for fname, fid in filters:
                for size in (224, 32):
                    for mode in ('onecrop', 'square'):
                        rw, rh, left, top = (onecrop_geometry(base.width, base.height, size) if mode == 'onecrop'
                                             else square_geometry(size))
                        res = base.resize((rw, rh), fid).crop((left, top, left + size, top + size))
                        case = '%s_%s_%s_%s_%d' % (jname, dec, fname, mode, size)
                        write(os.path.join(out, 'pipe', case + '.rgb'), res.tobytes())
                        manifest['pipelines'].append({'id': case, 'jpeg': jname, 'decoder': dec, 'filter': fname,
                                                      'mode': mode, 'size': size, 'file': 'pipe/%s.rgb' % case,
                                                      'resized': [rw, rh], 'crop': [left, top]})

    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
    print('gen-pil-fixtures: Pillow %s, %d resize, %d reduce, %d jpeg, %d encode, %d pipeline cases -> %s' % (
        PIL.__version__, len(manifest['resize']), len(manifest['reduce']), len(manifest['jpeg']),
        len(manifest['encode']), len(manifest['pipelines']), out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
