/** `qrobust data ...`: placeholder filled by the data layer. */
import type { Command } from 'commander';
export function registerDataCommands(_program: Command): void {}
