// Losses: mse, huber, binaryCrossEntropyWithLogits, softmaxCrossEntropy, logNormalPdf.
// How to add a row, and what each check asserts: test/harness/harness.ts. Tests a row cannot
// express (wide ranges, special points, sizes too large for finite differences) go in an exported
// `specialTests(track)`, as in core.table.ts; test/ops.test.ts registers it.
import type { OpCase } from '../harness/harness.js';

export const cases: OpCase[] = [];
