/**
 * Progress bars on stderr (cli-progress) with an ETA. Silent when `--json` asked for machine output
 * on a terminal-less run, when QROBUST_QUIET=1, or when stderr is not a TTY and QROBUST_PROGRESS is unset
 * (CI logs then get one line at the start and one at the end instead of thousands of redraws).
 */
import cliProgress from 'cli-progress';

let quiet = process.env.QROBUST_QUIET === '1';

/** Silences all progress output (the CLI calls this under --json). */
export function setQuiet(q: boolean): void {
  quiet = q;
}

export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

/**
 * Starts a bar.
 * @param label what is being done, e.g. "materialising fashion-mnist"
 * @param total the number of steps
 * @example
 * const p = startProgress('decode', 10); for (let i = 0; i < 10; i++) p.tick(); p.stop();
 */
export function startProgress(label: string, total: number): Progress {
  if (quiet) return { tick() {}, stop() {} };
  const tty = process.stderr.isTTY || process.env.QROBUST_PROGRESS === '1';
  if (!tty) {
    const t0 = Date.now();
    process.stderr.write(`${label}: ${total} steps\n`);
    let done = 0;
    return {
      tick(n = 1) { done += n; },
      stop() { process.stderr.write(`${label}: ${done}/${total} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`); },
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick(n = 1) { bar.increment(n); }, stop() { bar.stop(); } };
}

/** A warning line on stderr (never stdout, which belongs to --json). */
export function warn(msg: string): void {
  process.stderr.write(`warning: ${msg}\n`);
}

/** An informational line on stderr unless quiet. */
export function log(msg: string): void {
  if (!quiet) process.stderr.write(`${msg}\n`);
}
