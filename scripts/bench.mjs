// `npm run bench -- NAME [args]`: runs bench/NAME.ts with tsx. The benchmark prints its figures
// and, as its LAST line, one JSON object (field names in ../shared/design/contracts.md).
// The child's output is passed through as it comes, except its result line (a JSON object with a
// "bench" field), which is printed once the child has exited: its late asynchronous log lines on
// stderr (pino) then cannot land after the result when both streams go to one place.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync('bench').filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
if (!name || !existsSync(`bench/${name}.ts`)) {
  console.error(`usage: npm run bench -- NAME\navailable: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}

const isResult = (line) => {
  if (!line.startsWith('{')) return false;
  try {
    const value = JSON.parse(line);
    return typeof value === 'object' && value !== null && 'bench' in value;
  } catch {
    return false;
  }
};

const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${name}.ts`, ...rest], {
  stdio: ['inherit', 'pipe', 'inherit'],
});
let result;
createInterface({ input: child.stdout }).on('line', (line) => {
  if (isResult(line)) {
    if (result !== undefined) process.stdout.write(`${result}\n`);
    result = line;
    return;
  }
  if (result !== undefined) {
    process.stdout.write(`${result}\n`);
    result = undefined;
  }
  process.stdout.write(`${line}\n`);
});
const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
if (result !== undefined) process.stdout.write(`${result}\n`);
process.exit(code ?? (signal ? 1 : 0));
