// Bundles the UI's PromQL editor (ui/editor/promql-editor.js with CodeMirror and
// @prometheus-io/codemirror-promql from node_modules) into dist/ui-build/ with esbuild: one ES
// module, minified, with a source map and the bundled packages' licence texts beside it. Written to
// temporary names and renamed, so a server reading the old bundle never sees half a file.
// Run by `npm run build`; the UI tests call buildUi() before they start a browser.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const UI_BUILD_DIR = join(root, 'dist', 'ui-build');

export async function buildUi() {
  const result = await build({
    entryPoints: [join(root, 'ui', 'editor', 'promql-editor.js')],
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    target: ['chrome100', 'firefox100', 'safari15'],
    outdir: UI_BUILD_DIR,
    write: false,
    logLevel: 'warning',
  });
  await mkdir(UI_BUILD_DIR, { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    await writeFile(tmp, file.contents);
    await rename(tmp, file.path);
  }
  return result.outputFiles.map((f) => f.path);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildUi();
  process.stdout.write(`ui: ${files.map((f) => f.slice(root.length + 1)).join(', ')}\n`);
}
