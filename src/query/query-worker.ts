/**
 * The query worker thread's entry: starts the query service (query-service.ts) with the config in
 * `workerData` and answers the messages of worker-client.ts:
 *   in:  {type: 'request', id, endpoint, params, labelName} | {type: 'stop'}
 *   out: {type: 'ready'} | {type: 'failed', error} | {type: 'response', id, response}
 *        | {type: 'stats', stats} (every second) | {type: 'stopped'}
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startQueryService, type QueryServiceConfig } from './query-service.js';
import type { ApiEndpoint } from './prom-api.js';
import type { Params } from './vigil-query.js';

export type WorkerRequest = { type: 'request'; id: number; endpoint: ApiEndpoint; params: Params; labelName?: string } | { type: 'stop' };

const port = parentPort!;

try {
  const service = await startQueryService(workerData as QueryServiceConfig);
  const statsTimer = setInterval(() => port.postMessage({ type: 'stats', stats: service.stats() }), 1000);
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'stop') {
      clearInterval(statsTimer);
      void service.stop().finally(() => port.postMessage({ type: 'stopped' }));
      return;
    }
    void service.executor.request(m.endpoint, m.params, m.labelName).then(
      (response) => port.postMessage({ type: 'response', id: m.id, response }),
      (err: Error) => port.postMessage({ type: 'response', id: m.id, response: { status: 500, body: JSON.stringify({ status: 'error', errorType: 'internal', error: err.message }) } }),
    );
  });
  port.postMessage({ type: 'stats', stats: service.stats() });
  port.postMessage({ type: 'ready' });
} catch (err) {
  port.postMessage({ type: 'failed', error: (err as Error).stack ?? String(err) });
}
