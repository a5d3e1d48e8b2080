/** `qrobust preprocess`. */
import type { Command } from 'commander';

export function registerPreprocessCommand(_program: Command): void {}
