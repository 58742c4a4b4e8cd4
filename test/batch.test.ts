// Vector mode (ts/batch.ts): re-emitting a program with a leading batch axis must give, lane by
// lane, exactly what running the unbatched program on each lane gives. One row per op kind (and
// per batching case: batched operand on either side, both batched), each run twice: through the
// op's batching rule and through the generic slice-apply-stack fallback.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { batch, BATCH_RULES } from '../ts/batch.js';
import { OPS, type OpName } from '../ts/generated/ops.js';
import { Rng } from './helpers/rng.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;
const track = trackPrograms();
const K = 3;

interface Row {
  readonly name: string;
  readonly shape: number[];
  readonly fn: (x: T) => T;
  /** Inputs drawn in (lo, hi); default (-2, 2). */
  readonly lo?: number;
  readonly hi?: number;
}

function uniform(n: number, seed: number, lo: number, hi: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.uniform(lo, hi));
}
const c = (shape: number[], seed: number): T => wg.constant(uniform(shape.reduce((a, b) => a * b, 1), seed, -1, 1), shape);
const spd = (x: T): T => wg.matmul(x, wg.transpose(x)).add(wg.mul(wg.eye(x.shape[0]!), 4));

const ROWS: Row[] = [
  { name: 'unary exp, sin', shape: [2, 3], fn: (x) => wg.sin(wg.exp(x)) },
  { name: 'binary, batched left, broadcast right', shape: [2, 3], fn: (x) => wg.mul(x, c([3], 1)) },
  { name: 'binary, batched right, rank-1 operand', shape: [3], fn: (x) => wg.sub(c([2, 3], 2), x) },
  { name: 'binary, both batched, scalar broadcast', shape: [], fn: (x) => wg.div(wg.add(x, c([4], 3)), wg.add(wg.square(x), 1)) },
  { name: 'binary comparison mask', shape: [2, 3], fn: (x) => wg.greater(x, 0) },
  { name: 'ternary where', shape: [2, 3], fn: (x) => wg.where(wg.greater(x, 0), x, wg.sin(c([3], 4))) },
  { name: 'reduce_sum axis 1', shape: [2, 3, 2], fn: (x) => wg.sum(x, 1) },
  { name: 'reduce_max keepDims, all axes', shape: [2, 3], fn: (x) => wg.max(x, undefined, { keepDims: true }) },
  { name: 'reduce_min, reduce_prod', shape: [2, 3], fn: (x) => wg.add(wg.min(x, 0), wg.prod(x, 0)) },
  { name: 'arg_reduce argmax (int32 out, cast back)', shape: [2, 3], fn: (x) => wg.cast(wg.argmax(x, 1), 'float64') },
  { name: 'reshape', shape: [2, 3], fn: (x) => wg.reshape(x, [3, 2]) },
  { name: 'broadcast_to', shape: [3], fn: (x) => wg.broadcastTo(x, [2, 3]) },
  { name: 'transpose', shape: [2, 3, 4], fn: (x) => wg.transpose(x, [2, 0, 1]) },
  { name: 'slice with a negative step', shape: [4, 3], fn: (x) => wg.slice(x, [3, 1], [2, 2], { step: [-2, 1] }) },
  { name: 'concat with an unbatched operand', shape: [2, 3], fn: (x) => wg.concat([c([2, 2], 5), x, x], 1) },
  { name: 'pad', shape: [2, 3], fn: (x) => wg.pad(x, [[1, 0], [0, 2]], 7) },
  { name: 'pad with a batched pad value (fallback inside the rule)', shape: [], fn: (x) => wg.pad(c([2, 2], 14), [[1, 0], [0, 1]], x) },
  { name: 'ternary where, batched condition only', shape: [3], fn: (x) => wg.where(wg.greater(x, 0), c([3], 15), c([2, 3], 16)) },
  { name: 'gather', shape: [4, 2], fn: (x) => wg.gather(x, [3, 0, 3], 0) },
  { name: 'scatter_add into an unbatched operand', shape: [3, 2], fn: (x) => wg.scatterAdd(c([4, 2], 6), [1, 1, 3], x, 0) },
  { name: 'scatter_add of unbatched updates', shape: [4, 2], fn: (x) => wg.scatterAdd(x, [0, 2], c([2, 2], 7), 0) },
  { name: 'one_hot', shape: [3], fn: (x) => wg.oneHot(wg.argmax(wg.reshape(x, [3, 1]), 1), 3) },
  { name: 'cast f32 and back', shape: [2, 3], fn: (x) => wg.cast(wg.cast(x, 'float32'), 'float64') },
  { name: 'matmul, batched plain left matrix', shape: [2, 3], fn: (x) => wg.matmul(x, c([3, 4], 8)) },
  { name: 'matmul, batched right', shape: [3, 2], fn: (x) => wg.matmul(c([4, 3], 9), x) },
  { name: 'matmul, both batched, transposed', shape: [2, 3], fn: (x) => wg.matmul(x, wg.transpose(x)) },
  { name: 'matmul, vector', shape: [3], fn: (x) => wg.matmul(c([2, 3], 10), x) },
  { name: 'cholesky', shape: [3, 3], fn: (x) => wg.cholesky(spd(x)) },
  { name: 'triangular_solve, batched matrix', shape: [3, 3], fn: (x) => wg.triangularSolve(wg.cholesky(spd(x)), c([3, 2], 11)) },
  { name: 'triangular_solve, batched right side', shape: [3, 2], fn: (x) => wg.triangularSolve(wg.cholesky(spd(c([3, 3], 12))), x) },
  { name: 'lu, lu_solve (solve)', shape: [3, 3], fn: (x) => wg.solve(spd(x), c([3, 1], 13)) },
];

/** A program of (x, X) returning f batched over X's lanes, by `rules`. */
function batchedProgram(row: Row, rules: typeof BATCH_RULES): wg.Program {
  return track(
    wg.compile(
      (x: T, X: T) => {
        const y = row.fn(x);
        const [yb] = batch(x.graph, [y.node], new Map([[x.node, X.node]]), K, rules);
        const out = new wg.Tensor(yb!, x.graph);
        return out.shape[0] === K && out.rank === y.rank + 1 ? out : wg.broadcastTo(out, [K, ...y.shape]);
      },
      { args: [wg.f64(row.shape), wg.f64([K, ...row.shape])], wrt: [] },
    ),
  );
}

describe('batch: every lane equals the unbatched program', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const size = row.shape.reduce((a, b) => a * b, 1);
      const X = uniform(K * size, 42, row.lo ?? -2, row.hi ?? 2);
      const single = track(wg.compile(row.fn, { args: [wg.f64(row.shape)], wrt: [] }));
      const expected: number[] = [];
      for (let k = 0; k < K; k++) {
        const out = single.run(X.slice(k * size, (k + 1) * size));
        expected.push(...(typeof out === 'number' ? [out] : Array.from(out)));
      }
      for (const [how, rules] of [['rules', BATCH_RULES], ['fallback', {}]] as const) {
        const got = batchedProgram(row, rules).run(new Float64Array(size), X);
        expect(Array.from(got as Float64Array), how).toEqual(expected);
      }
    });
  }

  it('every op with a batching rule is of a kind the rows above cover', () => {
    const kinds = new Set(['unary', 'binary', 'ternary', 'cast', 'reduce', 'arg_reduce', 'reshape', 'broadcast', 'transpose', 'slice', 'concat', 'pad', 'gather', 'scatter', 'one_hot', 'matmul', 'linalg']);
    for (const op of Object.keys(BATCH_RULES) as OpName[]) expect(kinds.has(OPS[op].kind), op).toBe(true);
  });

  it('leaves nodes that depend on no batched node unbatched', () => {
    const p = track(
      wg.compile(
        (x: T, X: T, y: T) => {
          const u = wg.exp(y);
          const [ub] = batch(x.graph, [u.node], new Map([[x.node, X.node]]), K);
          expect(ub).toBe(u.node);
          return u;
        },
        { args: [wg.f64([2]), wg.f64([K, 2]), wg.f64([2])], wrt: [] },
      ),
    );
    expect(p.outputShape).toEqual([2]);
  });
});
