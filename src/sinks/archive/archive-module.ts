/**
 * The archive writer as an engine module: `vigil run` / `vigil start` run it in-process with
 * `modules: [..., archiveModule()]`. It is its own consumer group (not a topology), started after the
 * engine's runtimes and stopped before their final commits. Its stop (SIGTERM/SIGINT of either
 * command) writes every buffered row as files and commits their offsets, within archive.stopTimeout;
 * rollups the runtimes' final commits send afterwards are archived at the next start.
 */
import type { EngineModule } from '../../engine/engine-module.js';
import { startArchiver, type Archiver, type ArchiverOptions } from './archive-writer.js';
import { formatBytes } from './retention.js';

export function archiveModule(options: Omit<ArchiverOptions, 'kafka'> = {}): EngineModule {
  let archiver: Archiver | undefined;
  return {
    name: 'archive',
    async start(ctx) {
      archiver = await startArchiver(ctx.config, { ...options, kafka: ctx.kafka, registry: options.registry ?? ctx.registryUrl });
    },
    async stop() {
      await archiver?.stop();
      archiver = undefined;
    },
    status() {
      if (!archiver) return 'archive not started';
      const s = archiver.stats();
      return `archive ${s.files} files, ${s.rows} rows, ${formatBytes(s.bytes)} written, ${s.bufferedRows} rows buffered (${archiver.store.url})`;
    },
  };
}
