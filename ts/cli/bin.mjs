#!/usr/bin/env node
// `npx qrobust`: registers tsx (ESM TypeScript) and runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
