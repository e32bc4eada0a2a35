// `npm run bench -- NAME [args]`: runs bench/NAME.ts with tsx. The benchmark prints its figures
// and, as its LAST line, one JSON object (field names in ../shared/design/contracts.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync('bench').filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
if (!name || !existsSync(`bench/${name}.ts`)) {
  console.error(`usage: npm run bench -- NAME\navailable: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${name}.ts`, ...rest], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
