/**
 * Serves the web UI: `/` (the single page), `/ui/*` (its script and styles from the top-level
 * ui/ folder) and `/vendor/uplot/*` (uPlot from node_modules). No build step: the files are
 * served as they are in the repository.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The ui/ folder: two levels up from both src/ui/ (tsx) and dist/ui/ (built). */
const uiRoot = fileURLToPath(new URL('../../ui/', import.meta.url));
const uplotRoot = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

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
  });
}
