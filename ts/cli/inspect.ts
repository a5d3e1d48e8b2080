/** `qrobust inspect`. */
import type { Command } from 'commander';

export function registerInspectCommand(_program: Command): void {}
