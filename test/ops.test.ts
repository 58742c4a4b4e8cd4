// Every public op, from the tables in test/ops/ (one per op family), checked by the harness in
// test/harness/harness.ts: forward against a plain-JS reference, reverse-mode gradient against
// finite differences, float32 against float64, Tensor methods against functions. A last group
// fails if wengert exports an op, or the engine knows an IR op, that no row exercises.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { OPS, nativeBinding, serializeProgram } from '../ts/internal.js';
import { parseGraph } from './helpers/graph-bytes.js';
import { trackPrograms } from './helpers/track.js';
import { forwardProgram, lossProgram, prepare, registerCases, type OpCase, type Track } from './harness/harness.js';
import * as core from './ops/core.table.js';
import * as elementwise from './ops/elementwise.table.js';
import * as linalg from './ops/linalg.table.js';
import * as losses from './ops/losses.table.js';
import * as reduce from './ops/reduce.table.js';
import * as shape from './ops/shape.table.js';
import * as transforms from './ops/transforms.table.js';

interface Table {
  readonly cases: readonly OpCase[];
  /** Tests a row cannot express, registered after the rows. */
  readonly specialTests?: (track: Track) => void;
}
const tables: Table[] = [core, elementwise, reduce, linalg, shape, losses, transforms];
const cases = tables.flatMap((t) => t.cases);

const track = trackPrograms();
registerCases(cases, track);
for (const t of tables) t.specialTests?.(track);

// ---------------------------------------------------------------------------------------------
// Coverage: derived from the public exports and the engine's op list, not from a list kept here.

describe('coverage', () => {
  // Exports that are not ops on tensors.
  const NOT_OPS = new Set(['compile', 'f64', 'f32', 'i32', 'Program', 'Tensor', 'WengertError', 'WengertTypeError', 'WengertRangeError', 'AbortError', 'configure', 'minimize', 'minimizeAsync', 'leastSquares', 'leastSquaresAsync', 'fitMany', 'fitManyAsync']);

  const covered = new Set(cases.flatMap((c) => c.covers));
  const exported = Object.entries(wg)
    .filter(([name, v]) => typeof v === 'function' && !NOT_OPS.has(name))
    .map(([name]) => name);

  it('every exported op has a row in the table', () => {
    expect(exported.length).toBeGreaterThan(20);
    expect(exported.filter((name) => !covered.has(name))).toEqual([]);
  });

  it('every op a row claims to cover is an exported op', () => {
    expect([...covered].filter((name) => !exported.includes(name))).toEqual([]);
  });

  // The opcodes in every row's float64 programs: the op alone, and the gradient of its loss
  // (which holds the forward nodes too) unless the output is int32.
  let seen: Set<number> | undefined;
  const collect = (): Set<number> => {
    if (seen) return seen;
    seen = new Set<number>();
    for (const c of cases) {
      const graphs = [serializeProgram(track(forwardProgram(c, c.fn, 'float64')), 'forward')];
      if (c.outDtype !== 'int32') {
        const p = track(lossProgram(c, c.fn, prepare(c).r, 'float64'));
        graphs.push(serializeProgram(p, p.wrt.length > 0 ? 'valueAndGrad' : 'forward'));
      }
      for (const g of graphs) for (const node of parseGraph(g).nodes) seen.add(node.opcode);
    }
    return seen;
  };
  // Every op the engine runs: its own list and the TypeScript registry (test/oplist.test.ts checks
  // that they agree). `input` and `constant` occur in every program, so any row covers them.
  const missing = (withDerivative: boolean): string[] =>
    [...new Set([...nativeBinding().opNames(), ...Object.keys(OPS)])]
      .map((name) => ({ name, op: (OPS as Record<string, (typeof OPS)[keyof typeof OPS] | undefined>)[name] }))
      .filter(({ op }) => !(op && (op.kind === 'input' || op.kind === 'constant') && cases.length > 0))
      .filter(({ op }) => (op?.grad === 'rule') === withDerivative)
      .filter(({ op }) => op === undefined || !collect().has(op.code))
      .map(({ name }) => name);

  it('every IR op with a derivative occurs in some row’s gradient program', () => {
    expect(missing(true)).toEqual([]);
  });

  it('every IR op without a derivative occurs in some row’s programs', () => {
    expect(missing(false)).toEqual([]);
  });
});
