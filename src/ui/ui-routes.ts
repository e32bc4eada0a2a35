/**
 * Serves the web UI: `/` (the single page), `/ui/*` (its script and styles from the top-level
 * ui/ folder, as they are in the repository), `/vendor/uplot/*` (uPlot from node_modules) and
 * `/ui-build/*` (the query page's PromQL editor, bundled by `npm run build` into dist/ui-build/).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The ui/ folder: two levels up from both src/ui/ (tsx) and dist/ui/ (built). */
const uiRoot = fileURLToPath(new URL('../../ui/', import.meta.url));
const uplotRoot = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
/** scripts/build-ui.mjs writes here (also two levels up from src/ui/ and dist/ui/). */
const buildRoot = fileURLToPath(new URL('../../dist/ui-build/', import.meta.url));
const BUILT = ['promql-editor.js', 'promql-editor.js.map'];

/**
 * Registers the UI's routes. They are public (auth.ts): the page and its scripts hold no data, and
 * the page must load to ask for an API token; every API call it makes is checked as usual.
 */
export async function registerUiRoutes(app: FastifyInstance): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' };
    });
    await scope.register(fastifyStatic, { root: uiRoot, prefix: '/ui/', index: false });
    await scope.register(fastifyStatic, { root: uplotRoot, prefix: '/vendor/uplot/', decorateReply: false });
    scope.get('/', async (_request, reply) => reply.sendFile('index.html', uiRoot));
    for (const file of BUILT) {
      scope.get(`/ui-build/${file}`, async (_request, reply) => {
        if (!existsSync(join(buildRoot, file))) {
          return reply.code(404).type('text/plain').send(`${file} is not built: run \`npm run build\` (scripts/build-ui.mjs)`);
        }
        return reply.sendFile(file, buildRoot);
      });
    }
  });
}
