/**
 * The slice of librdkafka (Debian librdkafka1, 2.0.2) that the embedded Kafka needs, bound through koffi.
 * Private to src/dev: use `startEmbeddedKafka` (embedded-kafka.ts) instead.
 *
 * Signatures follow librdkafka 2.0.2 src/rdkafka.h and src/rdkafka_mock.h. The mock API is
 * "experimental" there (no ABI promise), so everything is bound by name once and checked at load.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

type KoffiFunction = ReturnType<LibraryHandle['func']>;

/** librdkafka's shared library could not be loaded or misses a symbol. */
export class LibrdkafkaUnavailableError extends Error {
  readonly code = 'LIBRDKAFKA_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LibrdkafkaUnavailableError';
  }
}

/** Opaque C handles; only ever passed back to librdkafka. */
export type Handle = unknown;

export interface Librdkafka {
  version: string;
  confNew(): Handle;
  confSet(conf: Handle, name: string, value: string, errstr: Buffer, errstrSize: number): number;
  confDestroy(conf: Handle): void;
  /** type 0 = RD_KAFKA_PRODUCER. Takes ownership of conf on success only. */
  newClient(type: number, conf: Handle, errstr: Buffer, errstrSize: number): Handle | null;
  destroyAsync(rk: Handle): Promise<void>;
  err2str(err: number): string;
  mockClusterNew(rk: Handle, brokers: number): Handle | null;
  mockClusterDestroyAsync(mcluster: Handle): Promise<void>;
  mockClusterBootstraps(mcluster: Handle): string;
  mockTopicCreate(mcluster: Handle, topic: string, partitions: number, replicationFactor: number): number;
  mockBrokerSetDown(mcluster: Handle, brokerId: number): number;
  mockBrokerSetUp(mcluster: Handle, brokerId: number): number;
  mockBrokerSetRtt(mcluster: Handle, brokerId: number, rttMs: number): number;
  mockPushRequestErrorsArray(mcluster: Handle, apiKey: number, count: number, errors: Int32Array): void;
  mockClearRequestErrors(mcluster: Handle, apiKey: number): void;
}

const cache = new Map<string, Librdkafka>();

/** The library name koffi loads (the soname of Debian's librdkafka1). */
export const LIBRDKAFKA_SONAME = 'librdkafka.so.1';

/**
 * Loads and binds librdkafka once per process. Throws LibrdkafkaUnavailableError with a fix hint.
 * `soname` exists for tests of that error.
 */
export function librdkafka(soname = LIBRDKAFKA_SONAME): Librdkafka {
  const cached = cache.get(soname);
  if (cached) return cached;
  let lib: LibraryHandle;
  try {
    lib = koffi.load(soname);
  } catch (err) {
    throw new LibrdkafkaUnavailableError(
      `cannot load ${soname} for the embedded Kafka: ${(err as Error).message}; ` +
        'install it (apt-get install librdkafka1, or run `npm test`/`npm start`, which do) or set KAFKA_BROKERS',
      { cause: err },
    );
  }
  let bound: Librdkafka;
  try {
    bound = bind(lib);
  } catch (err) {
    throw new LibrdkafkaUnavailableError(
      `${soname} lacks the mock cluster API (librdkafka >= 2.0 needed): ${(err as Error).message}`,
      { cause: err },
    );
  }
  cache.set(soname, bound);
  return bound;
}

function bind(lib: LibraryHandle): Librdkafka {
  // Anonymous opaque types: a named koffi type can only be declared once per process, and this
  // module may be evaluated more than once (vitest, tsx + dist side by side).
  const ptr = koffi.pointer(koffi.opaque());
  const f = (name: string, result: string | TypeObject, args: (string | TypeObject)[]) => lib.func(name, result, args);

  const version = f('rd_kafka_version_str', 'const char *', []);
  const confNew = f('rd_kafka_conf_new', ptr, []);
  const confSet = f('rd_kafka_conf_set', 'int', [ptr, 'const char *', 'const char *', 'char *', 'size_t']);
  const confDestroy = f('rd_kafka_conf_destroy', 'void', [ptr]);
  const kNew = f('rd_kafka_new', ptr, ['int', ptr, 'char *', 'size_t']);
  const kDestroy = f('rd_kafka_destroy', 'void', [ptr]);
  const err2str = f('rd_kafka_err2str', 'const char *', ['int']);
  const clusterNew = f('rd_kafka_mock_cluster_new', ptr, [ptr, 'int']);
  const clusterDestroy = f('rd_kafka_mock_cluster_destroy', 'void', [ptr]);
  const bootstraps = f('rd_kafka_mock_cluster_bootstraps', 'const char *', [ptr]);
  const topicCreate = f('rd_kafka_mock_topic_create', 'int', [ptr, 'const char *', 'int', 'int']);
  const setDown = f('rd_kafka_mock_broker_set_down', 'int', [ptr, 'int32_t']);
  const setUp = f('rd_kafka_mock_broker_set_up', 'int', [ptr, 'int32_t']);
  const setRtt = f('rd_kafka_mock_broker_set_rtt', 'int', [ptr, 'int32_t', 'int']);
  // The non-variadic twin of rd_kafka_mock_push_request_errors (present in 2.0.2).
  const pushErrors = f('rd_kafka_mock_push_request_errors_array', 'void', [
    ptr,
    'int16_t',
    'size_t',
    koffi.pointer('int32_t'),
  ]);
  const clearErrors = f('rd_kafka_mock_clear_request_errors', 'void', [ptr, 'int16_t']);

  const asPromise = (fn: KoffiFunction, arg: Handle) =>
    new Promise<void>((resolve, reject) => fn.async(arg, (err: unknown) => (err ? reject(err) : resolve())));

  return {
    version: version() as string,
    confNew: () => confNew(),
    confSet: (conf, name, value, errstr, size) => confSet(conf, name, value, errstr, size),
    confDestroy: (conf) => confDestroy(conf),
    newClient: (type, conf, errstr, size) => kNew(type, conf, errstr, size),
    // Both join native threads: run them on koffi's worker pool, not on the event loop.
    destroyAsync: (rk) => asPromise(kDestroy, rk),
    err2str: (err) => err2str(err) as string,
    mockClusterNew: (rk, brokers) => clusterNew(rk, brokers),
    mockClusterDestroyAsync: (mc) => asPromise(clusterDestroy, mc),
    mockClusterBootstraps: (mc) => bootstraps(mc) as string,
    mockTopicCreate: (mc, topic, partitions, rf) => topicCreate(mc, topic, partitions, rf),
    mockBrokerSetDown: (mc, id) => setDown(mc, id),
    mockBrokerSetUp: (mc, id) => setUp(mc, id),
    mockBrokerSetRtt: (mc, id, ms) => setRtt(mc, id, ms),
    mockPushRequestErrorsArray: (mc, apiKey, count, errors) => pushErrors(mc, apiKey, count, errors),
    mockClearRequestErrors: (mc, apiKey) => clearErrors(mc, apiKey),
  };
}

/** Reads a NUL-terminated C string written into `buf`. */
export function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end === -1 ? buf.length : end);
}
