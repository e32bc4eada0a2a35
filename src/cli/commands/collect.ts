/**
 * `vigil collect --file-sd FILE...`: scrapes the targets of Prometheus file_sd files (or of a
 * Prometheus-style `--scrape-config`), sharded with the other collectors of the same Kafka group,
 * and runs the push endpoint on VIGIL_HTTP_PORT when VIGIL_PUSH_TOKENS is set. Samples go to the
 * metrics topic as SampleBatch records. KAFKA_BROKERS / SCHEMA_REGISTRY_URL unset: started
 * embedded in this process (as every Vigil component does). A status line goes to stderr every
 * --status-interval; SIGINT/SIGTERM stop it cleanly (leave the group, flush the publisher).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { startStack, type Stack } from '../../dev/stack.js';
import { CollectService } from '../../collect/collect-service.js';
import { checkJob, DEFAULTS, loadScrapeConfig, parseDuration, ScrapeConfigError, type ScrapeJob } from '../../collect/scrape/scrape-config.js';
import { DEFAULT_MEMBERSHIP_GROUP } from '../../collect/shard/membership.js';
import { createKafka } from '../../kafka/client.js';
import { SampleBatchPublisher } from '../../kafka/publisher.js';
import { sampleBatchSerde } from '../../model/serde.js';
import { UserError } from '../user-error.js';
import { stopSignals } from '../stop-signals.js';

interface CollectFlags {
  fileSd?: string[];
  scrapeConfig?: string;
  job: string;
  interval: string;
  timeout?: string;
  metricsPath: string;
  scheme: string;
  honorLabels?: boolean;
  honorTimestamps: boolean;
  refreshInterval: string;
  shard: boolean;
  group?: string;
  statusInterval: string;
  staleMarkers: boolean;
}

const say = (line: string) => process.stderr.write(`vigil collect: ${line}\n`);

function duration(value: string, flag: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new UserError(`${flag} must be a duration such as 15s, 1m or 500ms, got "${value}"`);
  return ms;
}

/** The scrape jobs the flags describe (a --scrape-config file, plus one job for --file-sd). */
export function jobsFromFlags(flags: CollectFlags): ScrapeJob[] {
  const jobs: ScrapeJob[] = [];
  try {
    if (flags.scrapeConfig) jobs.push(...loadScrapeConfig(flags.scrapeConfig));
    if (flags.fileSd && flags.fileSd.length > 0) {
      if (flags.scheme !== 'http' && flags.scheme !== 'https') throw new UserError(`--scheme must be http or https, got "${flags.scheme}"`);
      if (!flags.metricsPath.startsWith('/')) throw new UserError(`--metrics-path must start with "/", got "${flags.metricsPath}"`);
      const intervalMs = duration(flags.interval, '--interval');
      if (jobs.some((j) => j.name === flags.job)) throw new UserError(`job "${flags.job}" is defined twice (--job and --scrape-config)`);
      jobs.push(
        checkJob({
          name: flags.job,
          intervalMs,
          timeoutMs: flags.timeout ? duration(flags.timeout, '--timeout') : Math.min(DEFAULTS.timeoutMs, intervalMs),
          metricsPath: flags.metricsPath,
          scheme: flags.scheme,
          honorLabels: !!flags.honorLabels,
          honorTimestamps: flags.honorTimestamps,
          params: {},
          fileSd: [{ files: flags.fileSd, refreshIntervalMs: duration(flags.refreshInterval, '--refresh-interval') }],
          staticGroups: [],
        }),
      );
    }
  } catch (err) {
    if (err instanceof ScrapeConfigError) throw new UserError(err.message, err.code);
    throw err;
  }
  return jobs;
}

async function runCollect(flags: CollectFlags, program: Command): Promise<void> {
  const config = loadConfig({ path: program.opts().config });
  const jobs = jobsFromFlags(flags);
  const pushOn = config.push.tokens.length > 0;
  if (jobs.length === 0 && !pushOn) {
    throw new UserError('nothing to do: give --file-sd FILE... (or --scrape-config FILE), or set VIGIL_PUSH_TOKENS for the push endpoint');
  }
  const statusMs = duration(flags.statusInterval, '--status-interval');

  const signals = stopSignals();
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stack: Stack | undefined;
  let publisher: SampleBatchPublisher | undefined;
  let service: CollectService | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  try {
    try {
      stack = await startStack({ config });
    } catch (err) {
      const e = err as Error & { code?: unknown };
      if (typeof e.code === 'string') throw new UserError(e.message, e.code);
      throw err;
    }
    if (!config.kafka.brokers || !config.schemaRegistry.url) {
      say(`started an embedded stack for this process: KAFKA_BROKERS=${stack.brokers} SCHEMA_REGISTRY_URL=${stack.registryUrl}`);
    }
    const kafka = createKafka(stack.brokers, `${config.kafka.clientId}-collect`);
    // Like every group Vigil forms, the collectors' carries the client id (default "vigil-collectors").
    const group = flags.group ?? `${config.kafka.clientId}-collectors`;
    publisher = new SampleBatchPublisher({
      kafka,
      serde: sampleBatchSerde({ registry: stack.registryUrl }),
      topic: config.topics.metrics,
      name: 'collect',
    });
    service = new CollectService({
      jobs: jobs.map((j) => ({ ...j })),
      publisher,
      staleMarkers: flags.staleMarkers,
      ...(flags.shard ? { shard: { kafka, brokers: stack.brokers, groupId: group, topic: `${config.kafka.clientId}.collectors` } } : {}),
      ...(pushOn
        ? { push: { tokens: config.push.tokens, maxBodyBytes: config.push.maxBodyBytes, maxSeriesPerRequest: config.push.maxSeriesPerRequest, port: config.http.port } }
        : {}),
    });
    try {
      await service.start();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new UserError(`cannot serve the push endpoint: port ${config.http.port} is in use (set VIGIL_HTTP_PORT or http.port)`, 'EADDRINUSE');
      }
      throw err;
    }
    const s0 = service.status();
    say(
      `running as ${service.instanceId}: ${jobs.length} job(s), ${s0.targets} target(s)` +
        `${flags.shard ? `, sharded in group "${group}"` : ''}${s0.pushUrl ? `, push endpoint on ${s0.pushUrl}` : ''}`,
    );
    statusTimer = setInterval(() => {
      const s = service!.status();
      const p = publisher!.stats;
      say(
        `targets=${s.targets} owned=${s.owned} members=${s.members ?? '-'} up=${s.up} down=${s.down} scrapes=${s.scrapes} missed=${s.missed} ` +
          `samples=${s.samples} published_records=${p.records} buffered_bytes=${p.bufferedBytes} publish_errors=${s.publishErrors}`,
      );
    }, statusMs);
    say(`${await signals.received}, stopping`);
  } finally {
    clearInterval(statusTimer);
    await service?.stop();
    await publisher?.close();
    await stack?.stop();
    clearInterval(keepAlive);
    signals.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('collect')
    .description('scrape Prometheus targets from file_sd files (sharded across collectors) and run the push endpoint when VIGIL_PUSH_TOKENS is set')
    .option('--file-sd <files...>', 'Prometheus file_sd files (JSON or YAML; "*" globs in the file name)')
    .option('--scrape-config <file>', 'Prometheus-style YAML with scrape_configs (job_name, scrape_interval, file_sd_configs, static_configs, ...)')
    .option('--job <name>', 'job label of the --file-sd targets', 'file_sd')
    .option('--interval <duration>', 'scrape interval of the --file-sd job', '15s')
    .option('--timeout <duration>', 'scrape timeout (default: 10s, at most the interval)')
    .option('--metrics-path <path>', 'HTTP path of the metrics', '/metrics')
    .option('--scheme <scheme>', 'http or https', 'http')
    .option('--honor-labels', 'exposed labels win over target labels (default: rename them exported_<name>)')
    .option('--no-honor-timestamps', 'ignore timestamps in the exposition (use the scrape time)')
    .option('--refresh-interval <duration>', 'periodic re-read of the file_sd files (they are also watched)', '5m')
    .option('--no-shard', 'scrape every target from this instance (no Kafka group membership)')
    .option('--group <id>', `Kafka consumer group shared by the collectors that split the targets (default: "<kafka.clientId>-collectors", i.e. "${DEFAULT_MEMBERSHIP_GROUP}")`)
    .option('--status-interval <duration>', 'how often the status line is printed (stderr)', '10s')
    .option('--no-stale-markers', 'do not publish stale markers (NaN) for series and targets that disappear')
    .action((flags: CollectFlags) => runCollect(flags, program));
}
