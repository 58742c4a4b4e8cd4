// Elementwise fusion changes no bits. The value-and-gradient and Hessian-vector programs of
// models whose elementwise chains are long enough to fuse are run here (fused) and in a child
// process compiled with WENGERT_FUSION=0 (unfused), on the same inputs: every output has the same
// bits, and the fused arena is smaller (the chains' intermediates got no slots).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { nativeBinding, serializeProgram } from '../ts/internal.js';
import { Rng } from './helpers/rng.js';

type T = wg.Tensor;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'wengert-fusion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  dtype: 'float64' | 'float32';
  graph: Uint8Array;
  inputs: Float64Array[] | Float32Array[];
  outputs: number[];
}

const rng = new Rng(31);
const n = 6000;
const rosen = (x: T): T => {
  const a = wg.slice(x, [0], [n - 1]);
  const b = wg.slice(x, [1], [n - 1]);
  return wg.sum(wg.add(wg.mul(wg.square(wg.sub(b, wg.square(a))), 100), wg.square(wg.sub(1, a))));
};
const logistic = (w: T, X: T, y: T): T => {
  const z = wg.matmul(X, w);
  return wg.mean(wg.sub(wg.softplus(z), wg.mul(y, z)));
};
const layer = (W: T, bias: T, X: T): T => wg.mean(wg.square(wg.tanh(wg.add(wg.matmul(X, W), bias))));

function cases(): Case[] {
  const out: Case[] = [];
  for (const dtype of ['float64', 'float32'] as const) {
    const spec = dtype === 'float64' ? wg.f64 : wg.f32;
    const Arr = dtype === 'float64' ? Float64Array : Float32Array;
    const arr = (len: number, lo = -1.2, hi = 1.2) => Arr.from(rng.array(len, { lo, hi }));
    const add = (name: string, p: wg.Program, kind: 'valueAndGrad' | 'hvp', inputs: (Float64Array | Float32Array)[], outputs: number[]) =>
      out.push({ name: `${name}-${kind}-${dtype}`, dtype, graph: serializeProgram(p, kind), inputs: inputs as Float64Array[], outputs });
    const pr = wg.compile(rosen, { args: [spec([n])] });
    add('rosenbrock', pr, 'valueAndGrad', [arr(n)], [1, n]);
    add('rosenbrock', pr, 'hvp', [arr(n), arr(n)], [1, n, n]);
    const rows = 3000;
    const pl = wg.compile(logistic, { args: [spec([6]), spec([rows, 6]), spec([rows])], wrt: [0] });
    add('logistic', pl, 'valueAndGrad', [arr(6), arr(rows * 6), Arr.from(Array.from({ length: rows }, (_, i) => i % 2))], [1, 6]);
    const pm = wg.compile(layer, { args: [spec([20, 64]), spec([64]), spec([300, 20])], wrt: [0, 1] });
    add('layer', pm, 'valueAndGrad', [arr(20 * 64, -0.3, 0.3), arr(64), arr(300 * 20)], [1, 20 * 64, 64]);
  }
  return out;
}

describe('elementwise fusion', () => {
  it('fused programs give the bits of the same programs compiled without fusion', () => {
    const all = cases();
    const fused = new Map<string, { out: Uint8Array; arena: number }>();
    for (const c of all) {
      const Arr = c.dtype === 'float64' ? Float64Array : Float32Array;
      const p = nativeBinding().compile(c.graph, 2 ** 40);
      const outputs = c.outputs.map((len) => new Arr(len));
      p.run(c.inputs, outputs);
      const joined = new Arr(c.outputs.reduce((a, b) => a + b, 0));
      let at = 0;
      for (const o of outputs) joined.set(o, (at += o.length) - o.length);
      fused.set(c.name, { out: new Uint8Array(joined.buffer), arena: p.arenaBytes() });
      p.dispose();
      writeFileSync(join(dir, `${c.name}.graph`), c.graph);
      const ins = new Arr(c.inputs.reduce((a, x) => a + x.length, 0));
      at = 0;
      for (const x of c.inputs) ins.set(x, (at += x.length) - x.length);
      writeFileSync(join(dir, `${c.name}.in`), new Uint8Array(ins.buffer));
    }
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(all.map((c) => ({ name: c.name, dtype: c.dtype, inputs: c.inputs.map((x) => x.length), outputs: c.outputs }))));
    const env = { ...process.env, WENGERT_FUSION: '0' };
    const arenas = JSON.parse(execFileSync(process.execPath, [join(root, 'test/helpers/fusion-child.cjs'), root, dir], { env, encoding: 'utf8' })) as Record<string, number>;
    for (const c of all) {
      const unfused = new Uint8Array(readFileSync(join(dir, `${c.name}.out`)));
      const mine = fused.get(c.name)!;
      expect(Buffer.compare(Buffer.from(mine.out), Buffer.from(unfused)), `${c.name}: outputs differ`).toBe(0);
      expect(mine.arena, `${c.name}: fused arena ${mine.arena} vs unfused ${arenas[c.name]}`).toBeLessThan(arenas[c.name]!);
    }
  });
});
