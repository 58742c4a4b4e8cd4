// Every error wengert promises: its class, its stable code, and a message a user can act on
// (the op, the shapes, and the line of *this* file that called the op). Call sites are located
// by reading this file's own text for a marker comment, independently of any stack machinery.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { trackPrograms } from './helpers/track.js';
import { nativeBinding, serializeProgram } from '../ts/internal.js';
import { mutate, parseGraph, reseal, type ParsedGraph } from './helpers/graph-bytes.js';
import { Rng } from './helpers/rng.js';

type T = wg.Tensor;

const THIS_FILE = fileURLToPath(import.meta.url);
const SOURCE_LINES = readFileSync(THIS_FILE, 'utf8').split('\n');

/** Matches `errors.test.ts:<line>:<column>` for the line holding the marker comment `site:<name>`. */
function site(name: string): RegExp {
  const hits = SOURCE_LINES.flatMap((text, i) => (text.includes(`/* site:${name} */`) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker site:${name} found ${hits.length} times`);
  return new RegExp(`errors\\.test\\.ts:${hits[0]}:\\d+`);
}

/** The error thrown by fn (synchronously or as a rejection), or a failure if none is. */
async function caught(fn: () => unknown): Promise<Error & { code?: unknown }> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error & { code?: unknown };
  }
  throw new Error('expected an error, none was thrown');
}

function caughtSync(fn: () => unknown): Error & { code?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as Error & { code?: unknown };
  }
  throw new Error('expected an error, none was thrown');
}

/** Asserts the common contract: WengertError, the given code, and the listed message fragments. */
function expectWengert(err: Error & { code?: unknown }, code: string, fragments: readonly (string | RegExp)[] = []): void {
  expect(err).toBeInstanceOf(wg.WengertError);
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toMatch(f);
}

/** A shape as a message may print it: `[2,3]` or `[2, 3]`. */
function shapeRe(shape: readonly number[]): RegExp {
  return new RegExp(`\\[\\s*${shape.join('\\s*,\\s*')}\\s*\\]`);
}

const track = trackPrograms();

describe('shape errors at trace time', () => {
  it('binary op whose shapes do not broadcast', () => {
    const err = caughtSync(() =>
      wg.compile((x, y) => wg.add(x!, y!) /* site:add */, { args: [wg.f64([2, 3]), wg.f64([4])] }),
    );
    expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\badd\b/, shapeRe([2, 3]), shapeRe([4]), site('add')]);
  });

  it('Tensor method with mismatched shapes names the method’s op and the caller', () => {
    const err = caughtSync(() =>
      wg.compile((x, y) => x!.mul(y!) /* site:mul-method */, { args: [wg.f64([3, 2]), wg.f64([3])] }),
    );
    expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\bmul\b/, shapeRe([3, 2]), shapeRe([3]), site('mul-method')]);
  });

  it('matmul with mismatched inner dimensions', () => {
    const err = caughtSync(() =>
      wg.compile((a, b) => wg.sum(wg.matmul(a!, b!) /* site:matmul */), { args: [wg.f64([3, 4]), wg.f64([5, 2])] }),
    );
    expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\bmatmul\b/, shapeRe([3, 4]), shapeRe([5, 2]), site('matmul')]);
  });

  it('matrix × vector with the wrong vector length', () => {
    const err = caughtSync(() =>
      wg.compile((a, v) => wg.sum(wg.matmul(a!, v!) /* site:matvec */), { args: [wg.f64([3, 4]), wg.f64([3])] }),
    );
    expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\bmatmul\b/, shapeRe([3, 4]), shapeRe([3]), site('matvec')]);
  });

  it('reshape to a different element count', () => {
    const err = caughtSync(() =>
      wg.compile((x) => wg.sum(wg.reshape(x!, [4, 2]) /* site:reshape */), { args: [wg.f64([2, 3])] }),
    );
    expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\breshape\b/, shapeRe([2, 3]), shapeRe([4, 2]), site('reshape')]);
  });

  it('reduction over an axis the tensor does not have', () => {
    for (const axis of [2, -3]) {
      const err = caughtSync(() =>
        wg.compile((x) => wg.sum(x!, axis) /* site:sum-axis */, { args: [wg.f64([2, 3])] }),
      );
      expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\bsum\b/, shapeRe([2, 3]), site('sum-axis')]);
    }
  });

  it('transpose with a permutation of the wrong length', () => {
    const err = caughtSync(() =>
      wg.compile((x) => wg.sum(wg.transpose(x!, [1, 0]) /* site:transpose */), { args: [wg.f64([2, 3, 4])] }),
    );
    expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\btranspose\b/, shapeRe([2, 3, 4]), site('transpose')]);
  });

  it('the call site is the user’s line even from inside a helper function', () => {
    const layer = (h: T, w: T): T => wg.tanh(wg.matmul(h, w) /* site:helper */);
    const err = caughtSync(() =>
      wg.compile((x, w1, w2) => wg.sum(layer(layer(x!, w1!), w2!)), {
        args: [wg.f64([8, 5]), wg.f64([5, 6]), wg.f64([7, 2])],
      }),
    );
    expectWengert(err, 'WENGERT_SHAPE_MISMATCH', [/\bmatmul\b/, shapeRe([8, 6]), shapeRe([7, 2]), site('helper')]);
  });
});

describe('dtype mixing at trace time', () => {
  it('float32 argument with a float64 argument', () => {
    const err = caughtSync(() =>
      wg.compile((x, y) => wg.sum(wg.mul(x!, y!) /* site:dtype-mul */), { args: [wg.f32([3]), wg.f64([3])] }),
    );
    expectWengert(err, 'WENGERT_DTYPE_MISMATCH', [/\bmul\b/, /float32/, /float64/, site('dtype-mul')]);
  });

  it('float32 argument with a float64 constant', () => {
    const err = caughtSync(() =>
      wg.compile((x) => wg.sum(x!.add(wg.constant(new Float64Array(3), [3])) /* site:dtype-const */), {
        args: [wg.f32([3])],
      }),
    );
    expectWengert(err, 'WENGERT_DTYPE_MISMATCH', [/\badd\b/, site('dtype-const')]);
  });

  it('matmul of float64 by float32', () => {
    const err = caughtSync(() =>
      wg.compile((a, b) => wg.sum(wg.matmul(a!, b!) /* site:dtype-matmul */), { args: [wg.f64([2, 3]), wg.f32([3, 2])] }),
    );
    expectWengert(err, 'WENGERT_DTYPE_MISMATCH', [/\bmatmul\b/, site('dtype-matmul')]);
  });
});

describe('run-time input errors', () => {
  // Arguments of both dtypes and a scalar; the float32 one is unused, so no op mixes dtypes.
  let q: wg.Program;
  beforeAll(() => {
    q = track(wg.compile((w, _v, s) => wg.sum(w!).mul(s!), { args: [wg.f64([3]), wg.f32([2, 3]), wg.f64([])] }));
  });
  const good = [new Float64Array(3), new Float32Array(6), 2] as const;

  type Call = (...inputs: unknown[]) => unknown;
  const calls: [string, Call][] = [
    ['run', (...xs) => (q.run as Call)(...xs)],
    ['valueAndGrad', (...xs) => (q.valueAndGrad as Call)(...xs)],
    ['valueAndGradAsync', (...xs) => (q.valueAndGradAsync as Call)(...xs)],
  ];

  it('good inputs run (so that the failures below are about the inputs)', async () => {
    expect(q.run(...good)).toBe(0);
    expect(q.valueAndGrad(...good).value).toBe(0);
    expect(q.valueAndGrad(...good).grads.length).toBe(1); // wrt defaults to [0]
    expect((await q.valueAndGradAsync(...good)).grads[0]).toEqual(new Float64Array(3).fill(2));
  });

  for (const [name, call] of calls) {
    describe(name, () => {
      it('wrong number of inputs: RangeError WENGERT_INPUT_COUNT', async () => {
        for (const inputs of [[], good.slice(0, 2), [...good, 1]]) {
          const err = await caught(() => call(...inputs));
          expect(err).toBeInstanceOf(RangeError);
          expectWengert(err, 'WENGERT_INPUT_COUNT');
        }
      });

      it('wrong length: RangeError WENGERT_INPUT_LENGTH', async () => {
        for (const inputs of [
          [new Float64Array(2), good[1], good[2]],
          [good[0], new Float32Array(7), good[2]],
          [good[0], good[1], new Float64Array(2)], // a scalar argument takes a length-1 array
          [good[0], good[1], new Float64Array(0)],
        ]) {
          const err = await caught(() => call(...inputs));
          expect(err).toBeInstanceOf(RangeError);
          expectWengert(err, 'WENGERT_INPUT_LENGTH');
        }
      });

      it('wrong dtype or type: TypeError WENGERT_INPUT_DTYPE', async () => {
        for (const inputs of [
          [new Float32Array(3), good[1], good[2]], // float32 where float64 is expected
          [good[0], new Float64Array(6), good[2]], // float64 where float32 is expected
          [[0, 0, 0], good[1], good[2]], // a plain array
          ['abc', good[1], good[2]], // a string
          [good[0], good[1], '2'], // a string for a scalar
          [new Int32Array(3), good[1], good[2]],
          [undefined, good[1], good[2]],
        ]) {
          const err = await caught(() => call(...inputs));
          expect(err).toBeInstanceOf(TypeError);
          expectWengert(err, 'WENGERT_INPUT_DTYPE');
        }
      });
    });
  }

  it('a scalar argument also accepts a length-1 typed array', () => {
    expect(q.valueAndGrad(good[0], good[1], Float64Array.of(2)).grads[0]).toEqual(new Float64Array(3).fill(2));
  });
});

describe('other misuse is reported with a WENGERT_ code', () => {
  it('valueAndGrad of a non-scalar output', async () => {
    const p = track(wg.compile((x) => wg.exp(x!), { args: [wg.f64([3])] }));
    expect(p.run(new Float64Array(3))).toEqual(new Float64Array(3).fill(1));
    const err = await caught(() => p.valueAndGrad(new Float64Array(3)));
    expect(err).toBeInstanceOf(wg.WengertError);
    expect(String(err.code)).toMatch(/^WENGERT_/);
  });

  it('an op outside a traced function', async () => {
    const err = await caught(() => wg.exp(1));
    expect(err).toBeInstanceOf(wg.WengertError);
    expect(String(err.code)).toMatch(/^WENGERT_/);
  });

  it('a tensor carried from one traced function into another', async () => {
    let leaked: T | undefined;
    track(wg.compile((x) => ((leaked = x!), wg.sum(x!)), { args: [wg.f64([2])] }));
    const err = await caught(() => wg.compile((y) => wg.sum(wg.add(y!, leaked!)), { args: [wg.f64([2])] }));
    expect(err).toBeInstanceOf(wg.WengertError);
    expect(String(err.code)).toMatch(/^WENGERT_/);
  });

  it('compile options that make no sense', async () => {
    for (const options of [
      { args: [wg.f64([2])], wrt: [1] }, // no argument 1
      { args: [wg.f64([2])], wrt: [0, 0] }, // listed twice
      { args: [[2]] as unknown as wg.ArgSpec[] }, // not a spec
    ]) {
      const err = await caught(() => wg.compile((x) => wg.sum(x!), options));
      expect(err).toBeInstanceOf(wg.WengertError);
      expect(String(err.code)).toMatch(/^WENGERT_/);
    }
  });

  it('running a disposed program', async () => {
    const p = wg.compile((x) => wg.sum(x!), { args: [wg.f64([3])] });
    p.dispose();
    for (const call of [() => p.run(new Float64Array(3)), () => p.valueAndGrad(new Float64Array(3)), () => p.valueAndGradAsync(new Float64Array(3))]) {
      const err = await caught(call);
      expect(err).toBeInstanceOf(wg.WengertError);
      expect(String(err.code)).toMatch(/^WENGERT_/);
    }
  });
});

describe('corrupted serialized graphs: WENGERT_BAD_GRAPH', () => {
  const MAX_ARENA = 1 << 28;
  let bytes: Uint8Array;
  let graph: ParsedGraph;
  beforeAll(() => {
    // A program using inputs, constants, broadcasting, a reduction, matmul and transpose.
    const p = track(
      wg.compile(
        (w, X, y) => {
          const z = wg.matmul(X!, w!).add(0.5);
          const side = wg.sum(wg.transpose(wg.reshape(X!, [3, 2])).mul(wg.constant(Float64Array.of(1, 2, 3), [3])));
          return wg.mean(wg.softplus(z).sub(y!.mul(z))).add(side);
        },
        { args: [wg.f64([3]), wg.f64([2, 3]), wg.f64([2])] },
      ),
    );
    bytes = serializeProgram(p, 'valueAndGrad');
    graph = parseGraph(bytes);
  });
  const compileRaw = (b: Uint8Array): void => {
    nativeBinding().compile(b, MAX_ARENA).dispose();
  };
  const expectBad = (b: Uint8Array, why: string): void => {
    let err: unknown;
    try {
      compileRaw(b);
    } catch (e) {
      err = e;
    }
    expect(err, why).toBeInstanceOf(Error);
    expect((err as { code?: unknown }).code, `${why}: ${(err as Error).message}`).toBe('WENGERT_BAD_GRAPH');
  };
  const nodeOf = (opcode: number) => graph.nodes.find((n) => n.opcode === opcode)!;

  it('the unmodified bytes compile (so every rejection below is the corruption’s)', () => {
    expect(graph.magic).toBe('WGRT');
    expect(() => compileRaw(bytes)).not.toThrow();
    // The resealing helper leaves a good buffer good.
    expect(() => compileRaw(reseal(Uint8Array.from(bytes)))).not.toThrow();
  });

  it('header: magic, CRC, length, version, flags', () => {
    expectBad(mutate(bytes, (v) => v.setUint8(0, 0x58), false), 'bad magic');
    expectBad(mutate(bytes, (_v, b) => (b[b.length - 1] = b[b.length - 1]! ^ 0x01), false), 'body byte flipped, CRC not updated');
    expectBad(mutate(bytes, (v) => v.setUint32(12, (graph.crc ^ 1) >>> 0, true), false), 'CRC field wrong');
    expectBad(mutate(bytes, (v) => v.setUint32(8, bytes.length + 1, true), false), 'byte_length larger than the buffer');
    expectBad(bytes.slice(0, bytes.length - 1), 'truncated by one byte');
    expectBad(bytes.slice(0, 15), 'shorter than the header');
    expectBad(new Uint8Array(0), 'empty');
    expectBad(mutate(bytes, (v) => v.setUint16(4, 2, true)), 'version 2');
    expectBad(mutate(bytes, (v) => v.setUint16(6, 1, true)), 'non-zero flags');
  });

  it('body: counts, opcodes, SSA order, shapes, attributes, outputs, trailing bytes', () => {
    const withTrailing = new Uint8Array(bytes.length + 8);
    withTrailing.set(bytes);
    expectBad(reseal(withTrailing), 'trailing bytes');
    expectBad(mutate(bytes, (v) => v.setUint32(20, graph.nNodes + 1, true)), 'n_nodes one too many');
    expectBad(mutate(bytes, (v) => v.setUint32(20, 0xffffffff, true)), 'n_nodes huge');
    expectBad(mutate(bytes, (v) => v.setUint32(24, 0, true)), 'no outputs');
    expectBad(mutate(bytes, (v) => v.setUint32(28, graph.poolLength + 8, true)), 'pool_length past the end');
    const last = graph.nodes[graph.nodes.length - 1]!;
    const binaryNode = graph.nodes.find((n) => n.nInputs === 2)!;
    expectBad(mutate(bytes, (v) => v.setUint16(last.offset, 9999, true)), 'unknown opcode');
    expectBad(mutate(bytes, (v) => v.setUint32(binaryNode.inputsOffset, graph.nodes.indexOf(binaryNode), true)), 'input id not smaller than the node id');
    expectBad(mutate(bytes, (v) => v.setUint32(binaryNode.inputsOffset, 0x7fffffff, true)), 'input id out of range');
    expectBad(mutate(bytes, (v) => v.setUint8(binaryNode.offset + 2, 7)), 'unknown dtype');
    expectBad(mutate(bytes, (v) => v.setUint8(binaryNode.offset + 7, 1)), 'reserved byte set');
    expectBad(mutate(bytes, (v) => v.setUint8(binaryNode.offset + 4, 1)), 'binary op with arity 1');
    expectBad(mutate(bytes, (v) => v.setUint32(graph.outputsOffset, graph.nNodes, true)), 'output id out of range');
    expectBad(mutate(bytes, (v) => v.setUint8(graph.args[0]!.offset, 9)), 'argument dtype unknown');

    const matmul = nodeOf(120);
    expectBad(mutate(bytes, (v) => v.setUint32(matmul.dimsOffset + 4 * (matmul.rank - 1), matmul.dims[matmul.rank - 1]! + 1, true)), 'matmul output shape wrong');
    expectBad(mutate(bytes, (v) => v.setBigInt64(matmul.inputsOffset + 4 * matmul.nInputs, 2n, true)), 'matmul transpose_a = 2');
    const transpose = nodeOf(92);
    expectBad(mutate(bytes, (v) => v.setBigInt64(transpose.inputsOffset + 4 * transpose.nInputs, 0n, true)), 'transpose attribute not a permutation');
    const reduce = nodeOf(70);
    expectBad(mutate(bytes, (v) => v.setBigInt64(reduce.inputsOffset + 4 * reduce.nInputs, 2n, true)), 'reduce_sum keep_dims = 2');
    const constant = graph.nodes.find((n) => n.opcode === 1 && n.rank === 1)!;
    expectBad(mutate(bytes, (v) => v.setBigInt64(constant.inputsOffset, BigInt(Math.ceil(graph.poolLength / 8) * 8), true)), 'constant range past the pool');
    expectBad(mutate(bytes, (v) => v.setBigInt64(constant.inputsOffset, 4n, true)), 'constant offset not a multiple of 8');
    const input = nodeOf(0);
    expectBad(mutate(bytes, (v) => v.setBigInt64(input.inputsOffset, BigInt(graph.nArgs), true)), 'input arg_index out of range');
    expectBad(mutate(bytes, (v) => v.setUint32(input.dimsOffset, 0x80000000, true)), 'dimension above 2^31 - 1');
  });

  it('random single-byte corruptions (CRC resealed) never crash: they compile or throw a coded error', () => {
    const rng = new Rng(4242);
    const codes = new Map<string, number>();
    let accepted = 0;
    for (let trial = 0; trial < 400; trial++) {
      const at = 16 + rng.int(bytes.length - 16);
      const b = mutate(bytes, (_v, u8) => (u8[at] = (u8[at]! ^ (1 + rng.int(255))) & 0xff));
      try {
        compileRaw(b);
        accepted++;
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        const code = String((err as { code?: unknown }).code);
        expect(code).toMatch(/^WENGERT_/);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    // Most corruptions of a structural byte are caught by the validator.
    expect(codes.get('WENGERT_BAD_GRAPH') ?? 0).toBeGreaterThan(100);
    expect(accepted + [...codes.values()].reduce((s, c) => s + c, 0)).toBe(400);
  });
});
