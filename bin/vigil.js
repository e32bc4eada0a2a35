#!/usr/bin/env node
// The `vigil` command: runs the compiled CLI from dist/ (built by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('vigil: dist/ is missing; run `npm run build` first (npm start and npm test do it)\n');
  process.exit(1);
}
// `vigil start` runs everything in one terminal: keep its console to warnings and the status
// line unless asked for more (VIGIL_LOG_LEVEL=info). Set before any logger is created.
if (process.argv[2] === 'start' && !process.env.VIGIL_LOG_LEVEL) process.env.VIGIL_LOG_LEVEL = 'warn';
const { main } = await import(entry.href);
await main(process.argv);
