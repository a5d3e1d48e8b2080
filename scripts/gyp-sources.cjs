// Prints what binding.gyp needs, from the same places CMakeLists.txt reads:
//   node scripts/gyp-sources.cjs sources   -> every path in native/sources.txt (kernels + binding)
//   node scripts/gyp-sources.cjs defines   -> QRB_HAVE_* for the system libraries present
//   node scripts/gyp-sources.cjs cflags    -> their include flags
//   node scripts/gyp-sources.cjs libs      -> their link flags
// A missing library is named on stderr (the build still succeeds, as with CMake).
'use strict';
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const what = process.argv[2];

function sh(cmd) {
  try { return execSync(cmd, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return null; }
}
function exists(p) { try { fs.accessSync(p); return true; } catch { return false; } }
const libdirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib'];
const hasLib = (name) => libdirs.some((d) => exists(path.join(d, `lib${name}.so`)));

function libraries() {
  const out = { defines: [], cflags: [], libs: [], missing: [] };
  const cv = sh('pkg-config --cflags opencv4');
  if (cv !== null) {
    out.defines.push('QRB_HAVE_OPENCV=1');
    out.cflags.push(...cv.split(/\s+/).filter(Boolean));
    out.libs.push('-lopencv_core', '-lopencv_imgproc', '-lopencv_imgcodecs');
  } else out.missing.push('OpenCV (apt: libopencv-dev)');
  if (exists('/usr/include/jpeglib.h') && hasLib('jpeg')) {
    out.defines.push('QRB_HAVE_JPEG=1', 'QRB_HAVE_IMAGE=1');
    out.libs.push('-ljpeg');
  } else out.missing.push('libjpeg (apt: libjpeg-dev)');
  if (hasLib('openblas')) {
    out.defines.push('QRB_HAVE_OPENBLAS=1');
    out.libs.push('-lopenblas');
  } else out.missing.push('OpenBLAS (apt: libopenblas-dev)');
  if (exists('/usr/include/oneapi/dnnl/dnnl.h') && hasLib('dnnl')) {
    out.defines.push('QRB_HAVE_DNNL=1');
    out.libs.push('-ldnnl');
  } else out.missing.push('oneDNN (apt: libdnnl-dev)');
  return out;
}

if (what === 'sources') {
  const lines = fs.readFileSync(path.join(root, 'native/sources.txt'), 'utf8').split('\n');
  const files = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [group, p] = line.split(/\s+/);
    if (group !== 'kernels' && group !== 'binding' && group !== 'image') {
      throw new Error(`native/sources.txt: unknown group '${group}' (allowed: kernels, image, binding)`);
    }
    // image sources need libjpeg, as in CMakeLists.txt
    if (group === 'image' && !(exists('/usr/include/jpeglib.h') && hasLib('jpeg'))) continue;
    files.push(p);
  }
  console.log(files.join(' '));
} else if (what === 'version') {
  console.log(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
} else {
  const l = libraries();
  if (what === 'defines') {
    for (const m of l.missing) process.stderr.write(`qrobust: MISSING ${m}\n`);
    console.log(l.defines.join(' '));
  } else if (what === 'cflags') console.log(l.cflags.join(' '));
  else if (what === 'libs') console.log(l.libs.join(' '));
  else throw new Error(`gyp-sources.cjs: expected sources|defines|cflags|libs|version but received ${what}`);
}
