// The benchmark suite entry point (`npm run bench`, after `npm run build`). Today it runs the
// derivative-transform benchmarks; further suites are added here.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = ['transforms.mjs'];
let failed = false;
for (const suite of suites) {
  const r = spawnSync(process.execPath, [join(here, suite), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
