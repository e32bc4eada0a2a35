// Compiles grammar/*.ne (nearley + moo) into src/dsl/generated/<name>.ts before tsc runs.
// The generated parsers are build outputs (gitignored), so they can never be stale.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';

const grammarDir = 'grammar';
const outDir = join('src', 'dsl', 'generated');
const sources = existsSync(grammarDir) ? readdirSync(grammarDir).filter((f) => f.endsWith('.ne')) : [];
mkdirSync(outDir, { recursive: true });
const nearleyc = join('node_modules', 'nearley', 'bin', 'nearleyc.js');
for (const file of sources) {
  const src = join(grammarDir, file);
  const out = join(outDir, basename(file, '.ne') + '.ts');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) continue;
  execFileSync(process.execPath, [nearleyc, src, '-o', out], { stdio: 'inherit' });
  console.log(`grammar: ${src} -> ${out}`);
}
