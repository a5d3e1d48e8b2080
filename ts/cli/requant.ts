/** `qrobust requant`. */
import type { Command } from 'commander';

export function registerRequantCommand(_program: Command): void {}
