/**
 * Where a training step's time goes: runs `--steps` resnet20 (or resnet18) training steps of our
 * engine alone and attributes wall time, process CPU time (all threads; steadier than wall time on a
 * loaded machine) and page faults to each native float call (wrapped and timed) and to the JS
 * between them. A quick before/after tool for engine changes; the ratio against torch is
 * train-step.ts's job.
 *
 *   npx tsx bench/engine/profile-step.ts [--arch resnet20|resnet18] [--batch 128] [--threads 2] [--steps 5]
 *     [--eval]   (--eval: forward passes only, eval mode, no recording: the attacks' small-batch case)
 */
process.env.OMP_NUM_THREADS ??= '2';
const argv = process.argv;
const opt = (name: string, dflt: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : dflt);
const arch = opt('arch', 'resnet20');
const batch = Number(opt('batch', '128'));
const steps = Number(opt('steps', '5'));
const evalOnly = argv.includes('--eval');
process.env.OMP_NUM_THREADS = opt('threads', process.env.OMP_NUM_THREADS);

const { native } = await import('../../ts/native/binding.ts');
const { Tensor } = await import('../../ts/tensor/index.ts');
const ag = await import('../../ts/autograd/index.ts');
const { SGD } = await import('../../ts/nn/index.ts');
const { createModel } = await import('../../ts/nn/models/index.ts');
const { Rng } = await import('../../ts/util/rng.ts');
const { trainStepTimer } = await import('./step-timer.ts');

const nat = native() as unknown as Record<string, unknown>;
const spent = new Map<string, { ms: number; cpu: number; calls: number; faults: number }>();
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const faults = () => process.resourceUsage().minorPageFault;
for (const [k, v] of Object.entries(nat)) {
  if (typeof v !== 'function' || !k.startsWith('f32')) continue;
  const f = v as (...a: unknown[]) => unknown;
  nat[k] = (...a: unknown[]) => {
    const f0 = faults();
    const c0 = cpuMs();
    const t0 = performance.now();
    try {
      return f(...a);
    } finally {
      const e = spent.get(k) ?? { ms: 0, cpu: 0, calls: 0, faults: 0 };
      e.ms += performance.now() - t0;
      e.cpu += cpuMs() - c0;
      e.faults += faults() - f0;
      e.calls++;
      spent.set(k, e);
    }
  };
}
const rng = new Rng(7);
const model = createModel(arch as 'resnet20', { numClasses: 10, inputSize: 32, seed: 1 });
if (evalOnly) model.eval();
else model.train();
const x = Tensor.rand([batch, 3, 32, 32], rng);
const labels = Array.from({ length: batch }, () => rng.int(10));
const sgd = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
const phase = { forward: 0, backward: 0, step: 0 };
const train = trainStepTimer(model, sgd, x, labels, phase);
const one = (timed: boolean) => {
  if (evalOnly) {
    const t0 = performance.now();
    ag.noGrad(() => model.call(x));
    const t1 = performance.now();
    if (timed) phase.forward += t1 - t0;
    return t1 - t0;
  }
  return train(timed);
};
// Main-thread GC pauses (scavenges and mark-compact finalisation; concurrent marking runs on V8's own
// threads and shows up only in the CPU total). Entries arrive asynchronously, hence the await below.
const { PerformanceObserver } = await import('node:perf_hooks');
const gc = { ms: 0, count: 0, on: false };
const gcObserver = new PerformanceObserver((list) => {
  if (!gc.on) return;
  for (const e of list.getEntries()) {
    gc.ms += e.duration;
    gc.count++;
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
one(false);
one(false);
await new Promise((r) => setImmediate(r));
gc.on = true;
spent.clear();
const faults0 = faults();
const cpu0 = process.cpuUsage();
const times: number[] = [];
for (let i = 0; i < steps; i++) times.push(one(true));
const total = times.reduce((a, b) => a + b, 0);
await new Promise((r) => setTimeout(r, 50));
gcObserver.disconnect();
const cpu = process.cpuUsage(cpu0);
const stepFaults = (faults() - faults0) / steps;
const nativeMs = [...spent.values()].reduce((a, b) => a + b.ms, 0);
const nativeCpu = [...spent.values()].reduce((a, b) => a + b.cpu, 0);
times.sort((a, b) => a - b);
console.log(`${arch} batch ${batch}${evalOnly ? ' (eval forward only)' : ''}, ${process.env.OMP_NUM_THREADS} threads: median ${times[Math.floor(steps / 2)]!.toFixed(0)} ms/step (min ${times[0]!.toFixed(0)}, max ${times[steps - 1]!.toFixed(0)})`);
console.log(`  per step: CPU time ${((cpu.user + cpu.system) / 1000 / steps).toFixed(0)} ms (all threads), ${stepFaults.toFixed(0)} page faults`);
console.log(`  per step: forward ${(phase.forward / steps).toFixed(0)} ms, backward ${(phase.backward / steps).toFixed(0)} ms, sgd ${(phase.step / steps).toFixed(0)} ms`);
for (const [k, v] of [...spent.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${k.padEnd(28)} ${(v.ms / steps).toFixed(1).padStart(8)} ms/step ${(v.cpu / steps).toFixed(1).padStart(8)} ms CPU  ${(v.calls / steps).toFixed(0).padStart(4)} calls  ${((100 * v.ms) / total).toFixed(1).padStart(5)}%  ${(v.faults / steps).toFixed(0).padStart(6)} faults`);
}
const cpuTotal = (cpu.user + cpu.system) / 1000;
console.log(`  ${'JS (everything else)'.padEnd(28)} ${((total - nativeMs) / steps).toFixed(1).padStart(8)} ms/step ${((cpuTotal - nativeCpu) / steps).toFixed(1).padStart(8)} ms CPU             ${((100 * (total - nativeMs)) / total).toFixed(1).padStart(5)}%`);
console.log(`  ${'  of which GC pauses'.padEnd(28)} ${(gc.ms / steps).toFixed(1).padStart(8)} ms/step ${''.padStart(12)} ${(gc.count / steps).toFixed(0).padStart(4)} GCs`);
