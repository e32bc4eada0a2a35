/**
 * The pull collector: scrape jobs, their target groups (static and file_sd, hot reloaded), and
 * one ScrapeManager running the loops. Sharding plugs in through `owns` (see shard/).
 */
import { componentLogger } from '../obs/logger.js';
import { FileSdWatcher } from './sd/file-sd.js';
import type { SamplePublisher } from './sample-publisher.js';
import type { ScrapeJob, TargetGroup } from './scrape/scrape-config.js';
import { ScrapeManager, type ScrapeManagerOptions } from './scrape/scrape-manager.js';
import { buildTargets, type ScrapeTarget } from './scrape/targets.js';

export interface CollectorOptions extends Omit<ScrapeManagerOptions, 'publisher'> {
  jobs: readonly ScrapeJob[];
  publisher: SamplePublisher;
}

const log = componentLogger('collector');

export class Collector {
  readonly manager: ScrapeManager;
  private readonly watchers: FileSdWatcher[] = [];
  /** Groups per job and per discovery source (index of the file_sd config, or "static"). */
  private readonly groups = new Map<string, Map<string, TargetGroup[]>>();
  private targets: ScrapeTarget[] = [];

  constructor(private readonly options: CollectorOptions) {
    this.manager = new ScrapeManager(options);
  }

  /** Reads every discovery source once, starts watching and starts the scrape loops. */
  async start(): Promise<void> {
    for (const job of this.options.jobs) {
      const sources = new Map<string, TargetGroup[]>([['static', job.staticGroups]]);
      this.groups.set(job.name, sources);
      job.fileSd.forEach((sd, index) => {
        const watcher = new FileSdWatcher({
          files: sd.files,
          refreshIntervalMs: sd.refreshIntervalMs,
          onUpdate: (groups) => {
            sources.set(`file_sd:${index}`, groups);
            this.apply();
          },
        });
        this.watchers.push(watcher);
      });
    }
    await Promise.all(this.watchers.map((w) => w.start()));
    this.apply();
  }

  /** Current targets of all jobs. */
  currentTargets(): readonly ScrapeTarget[] {
    return this.targets;
  }

  async close(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.close()));
    await this.manager.close();
  }

  private apply(): void {
    const all: ScrapeTarget[] = [];
    for (const job of this.options.jobs) {
      const groups = [...(this.groups.get(job.name)?.values() ?? [])].flat();
      const { targets, problems } = buildTargets(job, groups);
      for (const p of problems) log.error({ job: job.name }, p);
      all.push(...targets);
    }
    this.targets = all;
    this.manager.setTargets(all);
  }
}
