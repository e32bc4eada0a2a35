/**
 * A real Apache Kafka cluster managed by Vigil: KRaft nodes (combined broker + controller) run as child JVM
 * processes from the distribution scripts/kafka-dist.sh assembles from Maven Central (kafka/pom.xml). What
 * `vigil start`, `vigil stack` and the integration tests run on by default.
 *
 * - 1 node, or 3 (replication factor 3, min.insync.replicas 2, the quorum needs 2 of 3), on free ports of
 *   127.0.0.1; storage formatted on first start; readiness polled with Metadata requests, never slept.
 * - `dataDir` persists the cluster (its id, ports, every topic and offset): a second start on the same
 *   directory finds them again. Without one, a temporary directory is used and removed by `stop()`.
 * - Each node logs to `<dataDir>/logs/node-<id>.log`.
 * - Never an orphaned JVM: each node runs under kafka/VigilKafkaLauncher.java, which exits when its stdin (a
 *   pipe held by this process) closes, i.e. when this process stops it, exits or is killed with SIGKILL.
 *   Nodes run in their own process group, so a Ctrl-C in the terminal reaches Vigil, which stops the
 *   broker last, after its own final commits.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { componentLogger, type Logger } from '../obs/logger.js';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A cluster could not be assembled, started or reached; the message says which node and why. */
export class KafkaClusterError extends Error {
  readonly code = 'KAFKA_CLUSTER';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaClusterError';
  }
}

export interface KafkaClusterOptions {
  /** Number of nodes, ids 1..nodes (default 1). A persistent `dataDir` keeps its node count. */
  nodes?: number;
  /** Where the cluster lives across starts (created when missing). Default: a temporary directory. */
  dataDir?: string;
  /** JVM heap per node in MiB (default 512). */
  heapMb?: number;
  /** Extra server.properties for every node (override the defaults of `brokerDefaults`). */
  brokerConfig?: Record<string, string | number | boolean>;
  /** How long to wait for every node to serve Metadata (default 120 s). */
  readyTimeoutMs?: number;
  logger?: Logger;
}

/** One node's place in the cluster. */
export interface KafkaNode {
  readonly id: number;
  /** `127.0.0.1:port` of its client listener. */
  readonly address: string;
  /** Its log file. */
  readonly logFile: string;
  /** The JVM's pid while it runs. */
  readonly pid: number | undefined;
}

/** A running cluster. Every method after `stop()` throws KafkaClusterError. */
export interface KafkaCluster {
  /** Comma-separated `127.0.0.1:port` list (what KAFKA_BROKERS takes). */
  readonly bootstrapServers: string;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly nodes: readonly KafkaNode[];
  /** Kills one node's JVM (default SIGKILL: no clean shutdown) and waits until it has exited. */
  kill(nodeId: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a node that was killed, on its old ports and data, and waits until the cluster lists it. */
  restart(nodeId: number): Promise<void>;
  /** Clean stop of every node (SIGKILL after a grace period); removes a temporary dataDir. Idempotent. */
  stop(): Promise<void>;
}

/** What cluster.json in a dataDir records: the same cluster id and ports on every start. */
interface ClusterFile {
  clusterId: string;
  kafkaVersion: string;
  nodes: Array<{ id: number; port: number; controllerPort: number }>;
}

/** The Kafka version of kafka/pom.xml. */
export function kafkaVersion(): string {
  const pom = readFileSync(join(repoRoot, 'kafka', 'pom.xml'), 'utf8');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!m) throw new KafkaClusterError('kafka/pom.xml has no <kafka.version>');
  return m[1]!;
}

/**
 * The assembled distribution's directory (libs/ and classes/), assembling it first when missing (Maven
 * Central through mvn; needs java, javac and mvn: scripts/setup.sh installs them).
 */
export async function kafkaDistribution(): Promise<string> {
  try {
    const { stdout } = await execFileAsync('bash', [join(repoRoot, 'scripts', 'kafka-dist.sh')], { maxBuffer: 1 << 20 });
    return stdout.trim().split('\n').at(-1)!;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new KafkaClusterError(`cannot assemble the Kafka broker (scripts/kafka-dist.sh): ${(e.stderr || e.message).trim().slice(-2000)}`, { cause: err });
  }
}

/** The server.properties every node gets before its own listeners and `brokerConfig`. */
export function brokerDefaults(nodes: number): Record<string, string | number | boolean> {
  const rf = Math.min(3, nodes);
  const isr = Math.min(2, nodes);
  return {
    'process.roles': 'broker,controller',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    // Like a production cluster: topics exist because ensureTopics made them, with their settings.
    'auto.create.topics.enable': false,
    'default.replication.factor': rf,
    'min.insync.replicas': isr,
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': isr,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': isr,
    // A group forms as soon as its first member joins, and a killed member can be noticed within a
    // second or two (dev and tests; production keeps Kafka's 3 s and 6 s).
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
    // The cleaner's dedupe buffer is heap (default 128 MiB): 16 MiB compacts Vigil's changelogs in a small JVM.
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    'log.cleaner.threads': 1,
    'unclean.leader.election.enable': false,
  };
}

/** Starts (or resumes, with a persistent `dataDir`) a cluster and waits until every node serves Metadata. */
export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const log = options.logger ?? componentLogger('kafka-cluster');
  const temporary = options.dataDir === undefined;
  const dataDir = resolve(options.dataDir ?? (await mkdtemp(join(tmpdir(), 'vigil-kafka-'))));
  await mkdir(join(dataDir, 'logs'), { recursive: true });
  const dist = await kafkaDistribution();
  const version = kafkaVersion();
  const file = await loadClusterFile(dataDir);
  const wanted = options.nodes ?? file?.nodes.length ?? 1;
  if (!Number.isInteger(wanted) || wanted < 1) throw new KafkaClusterError(`nodes must be a positive integer, got ${options.nodes}`);
  if (file && file.nodes.length !== wanted) {
    throw new KafkaClusterError(`${dataDir} holds a ${file.nodes.length}-node cluster, not ${wanted}: use another directory or remove it`);
  }
  await claimDataDir(dataDir);
  const cluster = new ManagedCluster(dataDir, temporary, dist, options, log);
  for (let attempt = 1; ; attempt++) {
    const layout = await chooseLayout(file, wanted, version, dist);
    try {
      await cluster.start(layout);
      return cluster;
    } catch (err) {
      await cluster.killAll();
      // Free ports are chosen before the JVMs bind them: another process may take one in between.
      if (attempt < 3 && err instanceof PortInUseError) {
        log.warn({ err: err.message }, 'a port was taken before the broker bound it: trying other ports');
        continue;
      }
      await releaseDataDir(dataDir);
      if (temporary) await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  }
}

/**
 * One cluster per data directory: `<dataDir>/vigil.pid` names the process that runs it. A second `vigil
 * start` on the same directory is refused with a clear message instead of two brokers fighting over it;
 * the file of a process that died is taken over.
 */
async function claimDataDir(dataDir: string): Promise<void> {
  const file = join(dataDir, 'vigil.pid');
  if (claimedHere.has(dataDir)) throw inUse(dataDir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      claimedHere.add(dataDir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && isAlive(pid)) throw inUse(dataDir, pid);
      await rm(file, { force: true });
    }
  }
  throw new KafkaClusterError(`cannot claim the Kafka data directory ${dataDir} (${file} keeps coming back)`);
}

/** Data directories claimed by clusters of this process. */
const claimedHere = new Set<string>();

function inUse(dataDir: string, pid: number): KafkaClusterError {
  return new KafkaClusterError(`the Kafka data directory ${dataDir} is in use by process ${pid} (another vigil start or vigil stack?): stop it, or use another kafka.dataDir`);
}

async function releaseDataDir(dataDir: string): Promise<void> {
  const file = join(dataDir, 'vigil.pid');
  claimedHere.delete(dataDir);
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (pid === process.pid) await rm(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class PortInUseError extends KafkaClusterError {}

/** One Metadata round trip to exactly `address`: the registered broker ids and the controller, or why not. */
async function metadataOf(address: string): Promise<{ brokers: Set<number>; controller: number | null } | string> {
  const kafka = new Kafka({ brokers: [address], clientId: 'vigil-cluster-ready', logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { brokers, controller } = await admin.describeCluster();
    return { brokers: new Set(brokers.map((b) => b.nodeId)), controller };
  } catch (err) {
    return (err as Error).message;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function loadClusterFile(dataDir: string): Promise<ClusterFile | undefined> {
  const path = join(dataDir, 'cluster.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ClusterFile;
  } catch (err) {
    throw new KafkaClusterError(`${path} is not readable JSON: ${(err as Error).message}`);
  }
}

/** The stored layout with its ports when they are still free, else new free ports; a new cluster id when new. */
async function chooseLayout(file: ClusterFile | undefined, nodes: number, version: string, dist: string): Promise<ClusterFile> {
  const clusterId = file?.clusterId ?? (await storageTool(dist, ['random-uuid'])).trim();
  const ports: Array<{ id: number; port: number; controllerPort: number }> = [];
  for (let id = 1; id <= nodes; id++) {
    const old = file?.nodes.find((n) => n.id === id);
    const port = old && (await isFree(old.port)) ? old.port : await freePort();
    const controllerPort = old && (await isFree(old.controllerPort)) ? old.controllerPort : await freePort();
    ports.push({ id, port, controllerPort });
  }
  return { clusterId, kafkaVersion: version, nodes: ports };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.unref();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

function javaBin(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function classPath(dist: string): string {
  return `${join(dist, 'classes')}:${join(dist, 'libs', '*')}`;
}

async function storageTool(dist: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(javaBin(), ['-Xmx256m', '-cp', classPath(dist), 'kafka.tools.StorageTool', ...args], { maxBuffer: 4 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new KafkaClusterError(`kafka StorageTool ${args[0]} failed: ${(e.stderr || e.stdout || e.message).trim().slice(-2000)}`, { cause: err });
  }
}

function propertiesText(props: Record<string, string | number | boolean>): string {
  return Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('\n') + '\n';
}

interface NodeProcess {
  id: number;
  port: number;
  controllerPort: number;
  propsFile: string;
  logFile: string;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** Set when this process kills or stops the node (its exit is then no surprise). */
  stopping: boolean;
}

class ManagedCluster implements KafkaCluster {
  private layout!: ClusterFile;
  private readonly procs = new Map<number, NodeProcess>();
  private stopped: Promise<void> | undefined;

  constructor(
    readonly dataDir: string,
    private readonly temporary: boolean,
    private readonly dist: string,
    private readonly options: KafkaClusterOptions,
    private readonly log: Logger,
  ) {}

  get clusterId(): string {
    return this.layout.clusterId;
  }

  get bootstrapServers(): string {
    return this.layout.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  get nodes(): readonly KafkaNode[] {
    return this.layout.nodes.map((n) => {
      const p = this.procs.get(n.id);
      return { id: n.id, address: `127.0.0.1:${n.port}`, logFile: join(this.dataDir, 'logs', `node-${n.id}.log`), pid: p?.child?.exitCode === null ? p.child.pid : undefined };
    });
  }

  async start(layout: ClusterFile): Promise<void> {
    this.layout = layout;
    const voters = layout.nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');
    for (const n of layout.nodes) {
      const logDir = join(this.dataDir, `node-${n.id}`);
      const props = {
        ...brokerDefaults(layout.nodes.length),
        'node.id': n.id,
        'controller.quorum.voters': voters,
        listeners: `PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${n.port}`,
        'log.dirs': logDir,
        ...(this.options.brokerConfig ?? {}),
      };
      const propsFile = join(this.dataDir, `node-${n.id}.properties`);
      await writeFile(propsFile, propertiesText(props));
      if (!existsSync(join(logDir, 'meta.properties'))) {
        this.log.info({ node: n.id, clusterId: layout.clusterId }, 'formatting KRaft storage');
        await storageTool(this.dist, ['format', '-t', layout.clusterId, '-c', propsFile, '--ignore-formatted']);
      }
      this.procs.set(n.id, { id: n.id, port: n.port, controllerPort: n.controllerPort, propsFile, logFile: join(this.dataDir, 'logs', `node-${n.id}.log`), child: undefined, exited: Promise.resolve(), stopping: false });
    }
    await writeFile(join(this.dataDir, 'cluster.json'), JSON.stringify(layout, null, 2) + '\n');
    for (const p of this.procs.values()) this.spawnNode(p);
    await this.waitForNodes(layout.nodes.map((n) => n.id));
    this.log.info({ bootstrapServers: this.bootstrapServers, nodes: layout.nodes.length, dataDir: this.dataDir, version: layout.kafkaVersion }, 'kafka cluster ready');
  }

  private spawnNode(p: NodeProcess): void {
    const out = openSync(p.logFile, 'a');
    const heap = this.options.heapMb ?? 512;
    const child = spawn(
      javaBin(),
      [
        `-Xmx${heap}m`,
        `-Xms${Math.min(heap, 128)}m`,
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        '-Dorg.slf4j.simpleLogger.showDateTime=true',
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ",
        '-Dorg.slf4j.simpleLogger.log.state.change.logger=warn',
        '-cp',
        classPath(this.dist),
        'VigilKafkaLauncher',
        'kafka.Kafka',
        p.propsFile,
      ],
      // stdin: the pipe whose end tells the launcher that this process is gone; own process group.
      { stdio: ['pipe', out, out], detached: true },
    );
    closeSync(out);
    // The broker must not keep this process alive, and must not outlive it either (the stdin pipe).
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on('error', () => undefined);
    p.child = child;
    p.stopping = false;
    p.exited = new Promise((res) => child.once('exit', () => res()));
    child.once('exit', (code, signal) => {
      if (p.stopping) this.log.info({ node: p.id, code, signal }, 'kafka node exited');
      else this.log.warn({ node: p.id, code, signal, log: p.logFile }, 'kafka node exited unexpectedly');
    });
  }

  /**
   * Polls each node in `ids` on its own listener until its Metadata lists every node in `ids` and a
   * controller (or a node died, or the timeout). Asking each node itself matters after a restart: the
   * others still list a killed node until its broker session times out.
   */
  private async waitForNodes(ids: number[]): Promise<void> {
    const timeout = this.options.readyTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeout;
    const pending = new Set(ids);
    let last = 'no answer yet';
    while (pending.size > 0) {
      for (const id of pending) {
        const p = this.procs.get(id)!;
        if (p.child && (p.child.exitCode !== null || p.child.signalCode !== null)) throw await this.deathError(p);
        const answer = await metadataOf(`127.0.0.1:${p.port}`);
        if (typeof answer === 'string') last = `node ${id}: ${answer}`;
        else if (answer.controller !== null && ids.every((i) => answer.brokers.has(i))) pending.delete(id);
        else last = `node ${id}: brokers registered [${[...answer.brokers].join(',')}], controller ${answer.controller}`;
      }
      if (pending.size === 0) return;
      if (Date.now() > deadline) throw new KafkaClusterError(`kafka nodes ${[...pending].join(', ')} not ready after ${timeout} ms (${last}); logs in ${join(this.dataDir, 'logs')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private async deathError(p: NodeProcess): Promise<KafkaClusterError> {
    const tail = (await readFile(p.logFile, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
    const msg = `kafka node ${p.id} exited during start (code ${p.child?.exitCode}); last lines of ${p.logFile}:\n${tail}`;
    return /Address already in use|BindException/.test(tail) ? new PortInUseError(msg) : new KafkaClusterError(msg);
  }

  private proc(nodeId: number): NodeProcess {
    if (this.stopped) throw new KafkaClusterError('the kafka cluster is stopped');
    const p = this.procs.get(nodeId);
    if (!p) throw new KafkaClusterError(`no kafka node ${nodeId}: nodes are ${[...this.procs.keys()].join(', ')}`);
    return p;
  }

  async kill(nodeId: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc(nodeId);
    if (!p.child || p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.stopping = true;
    p.child.kill(signal);
    await this.exitOf(p);
  }

  /** Waits for a node's exit, keeping this process alive meanwhile (the children are unref'd). */
  private async exitOf(p: NodeProcess): Promise<void> {
    p.child?.ref();
    await p.exited;
  }

  async restart(nodeId: number): Promise<void> {
    const p = this.proc(nodeId);
    if (p.child && p.child.exitCode === null && p.child.signalCode === null) throw new KafkaClusterError(`kafka node ${nodeId} is running`);
    this.spawnNode(p);
    await this.waitForNodes([nodeId]);
    this.log.info({ node: nodeId }, 'kafka node restarted');
  }

  /** SIGKILL of every node (a failed start). */
  async killAll(): Promise<void> {
    await Promise.all([...this.procs.values()].map(async (p) => {
      if (p.child && p.child.exitCode === null && p.child.signalCode === null) {
        p.stopping = true;
        p.child.kill('SIGKILL');
        await this.exitOf(p);
      }
    }));
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // A temporary cluster's data goes away: no clean shutdown needed. A persistent one shuts down
      // cleanly; the last nodes of a multi-node cluster lose their quorum and never finish a controlled
      // shutdown, hence the SIGKILL after a grace period (their logs recover at the next start).
      const signal = this.temporary ? 'SIGKILL' : 'SIGTERM';
      const grace = this.procs.size > 1 ? 10_000 : 60_000;
      await Promise.all(
        [...this.procs.values()].map(async (p) => {
          const child = p.child;
          if (!child || child.exitCode !== null || child.signalCode !== null) return;
          p.stopping = true;
          child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), grace);
          await this.exitOf(p);
          clearTimeout(timer);
        }),
      );
      await releaseDataDir(this.dataDir);
      if (this.temporary) await rm(this.dataDir, { recursive: true, force: true });
      this.log.info({ dataDir: this.temporary ? undefined : this.dataDir }, 'kafka cluster stopped');
    })();
    return this.stopped;
  }
}
