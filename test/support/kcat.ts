/** kcat (Debian package) as an independent Kafka client in tests. */
import { execFile } from 'node:child_process';

export interface KcatRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

function run(args: string[], input?: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(input ?? '');
  });
}

/** Produces `key<TAB>value` lines with kcat (values must not contain newlines or tabs). */
export async function kcatProduce(brokers: string, topic: string, records: { key: string; value: string }[]): Promise<void> {
  const input = records.map((r) => `${r.key}\t${r.value}\n`).join('');
  await run(['-b', brokers, '-P', '-t', topic, '-K', '\t', '-X', 'acks=all'], input);
}

/** Reads a whole topic with kcat (no consumer group) up to its current end. */
export async function kcatConsumeAll(brokers: string, topic: string): Promise<KcatRecord[]> {
  const out = await run(['-b', brokers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\t%o\t%k\t%s\n']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [p, o, key, value] = line.split('\t');
      return { partition: Number(p), offset: Number(o), key: key!, value: value! };
    });
}
