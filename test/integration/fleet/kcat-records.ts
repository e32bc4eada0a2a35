/** kcat as an independent consumer of binary (Avro wire-format) records. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KcatRecord {
  partition: number;
  key: string;
  value: Buffer;
}

/** Reads every record of `topic` with kcat (an independent client), parsing `%p %S %K key value`. */
export async function kcatRecords(brokers: string, topic: string): Promise<KcatRecord[]> {
  const { stdout } = await run('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %S %K %k%s'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const out: KcatRecord[] = [];
  let pos = 0;
  const field = () => {
    const end = stdout.indexOf(0x20, pos);
    const n = Number(stdout.subarray(pos, end).toString());
    pos = end + 1;
    return n;
  };
  while (pos < stdout.length) {
    const partition = field();
    const valueLen = field();
    const keyLen = field();
    const key = stdout.subarray(pos, pos + keyLen).toString();
    pos += keyLen;
    out.push({ partition, key, value: stdout.subarray(pos, pos + valueLen) });
    pos += valueLen;
  }
  return out;
}
