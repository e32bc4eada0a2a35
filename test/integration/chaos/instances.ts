/** `npm run chaos -- instances --cycles N [--seed S] [--brokers HOST:PORT]`: see test/integration/topology/chaos-harness.ts. */
import { main } from './run-chaos.js';

await main('instances');
