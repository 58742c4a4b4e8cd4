// Reductions beyond sum and mean: prod, max, min, logSumExp, variance, std, norm, argmax, argmin
// (with outDtype: 'int32' if they return int32 indices), softmax, logSoftmax. Inputs of max, min,
// argmax, argmin: a(shape, distinct()), so no ties.
// How to add a row, and what each check asserts: test/harness/harness.ts. Tests a row cannot
// express (wide ranges, special points, sizes too large for finite differences) go in an exported
// `specialTests(track)`, as in core.table.ts; test/ops.test.ts registers it.
import type { OpCase } from '../harness/harness.js';

export const cases: OpCase[] = [];
