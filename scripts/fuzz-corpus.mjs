#!/usr/bin/env node
// The fuzzer's seed corpus: real programs, traced by the TypeScript front end and serialized
// exactly as the engine receives them. Every row of the op tables (test/ops/*.table.ts: every op
// family, float args and int32 index args) gives its forward program and its loss program
// (value and gradients) in float64 and, where the row supports it, float32; float64 rows with a
// derivative add their jvp, vjp and hvp programs. Nothing is run, but compiling a program with
// gradients loads the addon: build it first (npm run build:native; npm ci does).
//   node scripts/fuzz-corpus.mjs <dir>     writes one file per distinct graph into <dir>
// The TypeScript sources are loaded through vite (already a dev dependency, via vitest), so no
// build step is needed.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TABLES = ['core', 'elementwise', 'reduce', 'linalg', 'shape', 'losses', 'transforms'];

/** Writes the corpus into `dir`; returns { files, bytes, failed } (failed: programs that did not trace). */
export async function writeCorpus(dir) {
  const { createServer } = await import('vite');
  const server = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    cacheDir: join(root, 'build-fuzz', '.vite'),
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, watch: null },
  });
  try {
    const h = await server.ssrLoadModule('/test/harness/harness.ts');
    const internal = await server.ssrLoadModule('/ts/internal.ts');
    const cases = [];
    for (const t of TABLES) cases.push(...(await server.ssrLoadModule(`/test/ops/${t}.table.ts`)).cases);

    mkdirSync(dir, { recursive: true });
    const seen = new Set();
    let bytes = 0;
    let failed = 0;
    const add = (make) => {
      let b;
      try {
        b = make();
      } catch {
        failed++;
        return;
      }
      const name = createHash('sha1').update(b).digest('hex');
      if (seen.has(name)) return;
      seen.add(name);
      bytes += b.length;
      writeFileSync(join(dir, name), b);
    };

    for (const c of cases) {
      const dtypes = c.dtypes ?? ['float64', 'float32'];
      const intOut = c.outDtype === 'int32';
      for (const dtype of dtypes) {
        let outSize = 1;
        add(() => {
          const p = h.forwardProgram(c, c.fn, dtype, (y) => {
            outSize = y.shape.reduce((n, d) => n * d, 1);
          });
          return internal.serializeProgram(p, 'forward');
        });
        if (intOut) continue;
        // The loss Σ y ⊙ r with a fixed r (the harness's loss program).
        const r = Float64Array.from({ length: outSize }, (_, i) => ((i * 7) % 11) / 5 - 1);
        let loss;
        add(() => internal.serializeProgram((loss = h.lossProgram(c, c.fn, r, dtype)), 'valueAndGrad'));
        if (loss === undefined) continue;
        if (dtype !== 'float64' || c.noGrad) continue;
        add(() => internal.serializeProgram(loss, 'jvp'));
        add(() => internal.serializeProgram(loss, 'vjp'));
        if (!c.noSecondOrder) add(() => internal.serializeProgram(loss, 'hvp'));
      }
    }
    return { files: seen.size, bytes, failed, cases: cases.length };
  } finally {
    await server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/fuzz-corpus.mjs <dir>');
    process.exit(2);
  }
  const r = await writeCorpus(dir);
  console.log(`fuzz-corpus: ${r.files} graphs (${r.bytes} bytes) from ${r.cases} op-table rows into ${dir}; ${r.failed} failed to trace`);
  if (r.files === 0) process.exit(1);
}
