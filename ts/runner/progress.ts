/**
 * The runner's progress on stderr: an overall bar (cells done / total, ETA) and a bar for the cell in
 * progress. On a terminal both are cli-progress bars of one MultiBar; otherwise (CI logs, tests) one line per
 * finished cell with the overall count and ETA. Silent under `--json`.
 */
import cliProgress from 'cli-progress';

/** The two bars. */
export interface RunProgress {
  /** a new cell starts (label); its bar is sized by the first `cellStart` */
  cellBegin(label: string): void;
  cellStart(total: number): void;
  cellTick(n?: number): void;
  /** the cell finished (computed or reused) */
  cellDone(label: string, seconds: number, how: 'computed' | 'reused' | 'nc'): void;
  /** a message line (kept above the bars on a terminal) */
  line(msg: string): void;
  stop(): void;
}

/**
 * Starts the runner's progress display.
 * @param total cells in this run (this shard)
 * @param done cells already in the store
 * @param quiet no output at all (`--json`)
 */
export function startRunProgress(total: number, done: number, quiet: boolean): RunProgress {
  const t0 = Date.now();
  let finished = done;
  let computedSeconds = 0;
  let computed = 0;
  const eta = (): string => {
    if (computed === 0) return '?';
    const left = ((total - finished) * computedSeconds) / computed;
    return left < 90 ? `${Math.round(left)} s` : `${(left / 60).toFixed(1)} min`;
  };
  if (quiet) {
    return { cellBegin() {}, cellStart() {}, cellTick() {}, cellDone(_l, s, how) { finished++; if (how === 'computed') { computed++; computedSeconds += s; } }, line() {}, stop() {} };
  }
  const tty = process.stderr.isTTY || process.env.QROBUST_PROGRESS === '1';
  if (!tty) {
    return {
      cellBegin() {},
      cellStart() {},
      cellTick() {},
      cellDone(label, s, how) {
        finished++;
        if (how === 'computed') { computed++; computedSeconds += s; }
        process.stderr.write(`[${finished}/${total}] ${label}: ${how}${how === 'computed' ? ` in ${s.toFixed(1)} s` : ''} (elapsed ${((Date.now() - t0) / 1000).toFixed(0)} s, ETA ${eta()})\n`);
      },
      line(msg) { process.stderr.write(`${msg}\n`); },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar({ stream: process.stderr, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 2000, hideCursor: false, clearOnComplete: false, etaBuffer: 30, format: '{label} [{bar}] {value}/{total} | ETA {eta_formatted}' }, cliProgress.Presets.shades_classic);
  const overall = multi.create(total, done, { label: 'cells'.padEnd(44) });
  let cell: cliProgress.SingleBar | null = null;
  const clearCell = (): void => {
    if (cell) { multi.remove(cell); cell = null; }
  };
  return {
    cellBegin(label) {
      clearCell();
      cell = multi.create(1, 0, { label: label.slice(0, 44).padEnd(44) });
    },
    cellStart(n) { cell?.setTotal(Math.max(1, n)); },
    cellTick(n = 1) { cell?.increment(n); },
    cellDone(_label, s, how) {
      finished++;
      if (how === 'computed') { computed++; computedSeconds += s; }
      clearCell();
      overall.increment(1);
    },
    line(msg) { multi.log(`${msg}\n`); },
    stop() { clearCell(); multi.stop(); },
  };
}
