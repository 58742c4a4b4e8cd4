// Linear algebra: dot, outer, solve, cholesky, triangularSolve, logDet, inverse, trace, diag, and
// batched matmul beyond the core rows. Structured inputs: a(shape, SPD), a(shape, WELL_CONDITIONED).
// How to add a row, and what each check asserts: test/harness/harness.ts. Tests a row cannot
// express (wide ranges, special points, sizes too large for finite differences) go in an exported
// `specialTests(track)`, as in core.table.ts; test/ops.test.ts registers it.
import type { OpCase } from '../harness/harness.js';

export const cases: OpCase[] = [];
