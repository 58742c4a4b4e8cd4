#!/usr/bin/env node
// Runs the TypeScript tests: first the whole suite (vitest runs files in parallel), then, alone,
// the event-loop latency test, which measures how long a 1 ms interval waits while the engine's
// threads work — a figure that other test files running on the same cores would distort.
// Extra arguments go to the first vitest run.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');

function run(args, env = {}) {
  const r = spawnSync(process.execPath, [vitest, 'run', ...args], { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  if (r.error) {
    console.error(`ts-tests: cannot run vitest: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.argv.slice(2));
run(['test/async-runtime.test.ts', '-t', 'event loop stays responsive'], { WENGERT_LATENCY_TEST: '1' });
