/**
 * Where a QAT step's time goes (ours only; the ratio against torch is qat-step.ts's job): runs `--steps`
 * resnet20 QAT steps (forward, label-smoothed CE, backward, SGD Nesterov) and attributes wall time and
 * process CPU time to each native call (f32* functions, fake-quant kernels included) and to the JS between
 * them, and times each fake-quant module's forward by kind. `--ts-fq` runs the TS reference loops instead of
 * the native fake-quant kernels (same bits), for a before / after in one build.
 *
 *   npx tsx bench/qat/profile-qat.ts [--method pact] [--bits 4] [--batch 128] [--threads 2] [--steps 5] [--ts-fq]
 */
const argv = process.argv;
const opt = (name: string, dflt: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : dflt);
const method = opt('method', 'pact');
const bits = Number(opt('bits', '4'));
const batch = Number(opt('batch', '128'));
const steps = Number(opt('steps', '5'));
process.env.OMP_NUM_THREADS = opt('threads', process.env.OMP_NUM_THREADS ?? '2');

const { native } = await import('../../ts/native/binding.ts');
const { Tensor } = await import('../../ts/tensor/index.ts');
const ag = await import('../../ts/autograd/index.ts');
const { SGD } = await import('../../ts/nn/optim.ts');
const { resnet20 } = await import('../../ts/nn/models/resnet20.ts');
const { Rng } = await import('../../ts/util/rng.ts');
const { trainStepTimer } = await import('../engine/step-timer.ts');
const { prepareQat, quantConfig, quantLayers, setFakeQuantNative } = await import('../../ts/quant/index.ts');

if (argv.includes('--ts-fq')) setFakeQuantNative(false);
const nat = native() as unknown as Record<string, unknown>;
type Acc = { ms: number; cpu: number; calls: number };
const spent = new Map<string, Acc>();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const add = (k: string, ms: number, cpu: number) => {
  const e = spent.get(k) ?? { ms: 0, cpu: 0, calls: 0 };
  e.ms += ms;
  e.cpu += cpu;
  e.calls++;
  spent.set(k, e);
};
for (const [k, v] of Object.entries(nat)) {
  if (typeof v !== 'function' || !k.startsWith('f32')) continue;
  const f = v as (...a: unknown[]) => unknown;
  nat[k] = (...a: unknown[]) => {
    const c0 = cpuMs();
    const t0 = performance.now();
    try {
      return f(...a);
    } finally {
      add(k, performance.now() - t0, cpuMs() - c0);
    }
  };
}

const rng = new Rng(7);
const model = prepareQat(resnet20({ numClasses: 10, seed: 1 }), quantConfig({ method, bits })).train();
// Time each quantizer's forward (its native calls are inside, so this is not added to the native total).
const fq = new Map<string, Acc>();
for (const l of quantLayers(model)) {
  for (const q of [l.weightQuant, l.inputQuant]) {
    const key = `${q.role} ${q.kind}`;
    const orig = q.forward.bind(q);
    q.forward = (x) => {
      const t0 = performance.now();
      try {
        return orig(x);
      } finally {
        const e = fq.get(key) ?? { ms: 0, cpu: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        fq.set(key, e);
      }
    };
  }
}
const x = Tensor.rand([batch, 3, 32, 32], rng);
const labels = Array.from({ length: batch }, () => rng.int(10));
const sgd = new SGD(model.parameters(), { lr: 4e-3, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
const phase = { forward: 0, backward: 0, step: 0 };
const one = trainStepTimer(model, sgd, x, labels, phase);
one(false);
one(false);
spent.clear();
fq.clear();
const cpu0 = process.cpuUsage();
const times: number[] = [];
for (let i = 0; i < steps; i++) times.push(one(true));
const total = times.reduce((a, b) => a + b, 0);
const cpu = process.cpuUsage(cpu0);
const nativeMs = [...spent.values()].reduce((a, b) => a + b.ms, 0);
const nativeCpu = [...spent.values()].reduce((a, b) => a + b.cpu, 0);
times.sort((a, b) => a - b);
const p = (v: number, w = 8) => v.toFixed(1).padStart(w);
console.log(`resnet20 ${method}-${bits} QAT, batch ${batch}, ${process.env.OMP_NUM_THREADS} threads, fake-quant ${argv.includes('--ts-fq') ? 'TS loops' : 'native'}: median ${times[Math.floor(steps / 2)]!.toFixed(0)} ms/step (min ${times[0]!.toFixed(0)}, max ${times[steps - 1]!.toFixed(0)})`);
console.log(`  per step: CPU ${((cpu.user + cpu.system) / 1000 / steps).toFixed(0)} ms (all threads); forward ${(phase.forward / steps).toFixed(0)} ms, backward ${(phase.backward / steps).toFixed(0)} ms, sgd ${(phase.step / steps).toFixed(0)} ms`);
for (const [k, v] of [...spent.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${k.padEnd(28)} ${p(v.ms / steps)} ms/step ${p(v.cpu / steps)} ms CPU ${(v.calls / steps).toFixed(0).padStart(4)} calls ${p((100 * v.ms) / total, 5)}%`);
}
console.log(`  ${'JS (everything else)'.padEnd(28)} ${p((total - nativeMs) / steps)} ms/step ${p(((cpu.user + cpu.system) / 1000 - nativeCpu) / steps)} ms CPU            ${p((100 * (total - nativeMs)) / total, 5)}%`);
console.log('  fake-quant forwards (wall, native calls inside included):');
for (const [k, v] of [...fq.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`    ${k.padEnd(26)} ${p(v.ms / steps)} ms/step ${(v.calls / steps).toFixed(0).padStart(4)} calls`);
}
