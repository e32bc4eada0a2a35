/** Test entry: the `vigil` CLI from the TypeScript sources (no build needed). Run with spawnVigil(). */
import { main } from '../../src/cli/main.js';

await main(process.argv);
