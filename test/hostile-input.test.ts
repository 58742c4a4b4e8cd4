// Hostile and unusual input at the JavaScript boundary: detached and shared buffers, index values
// at the int32 limits, crafted graphs whose shapes overflow 64-bit byte counts, non-finite
// values. Every case either runs correctly or throws a WENGERT_ error with a code; none may crash
// the process. (Plain wrong counts, lengths and dtypes: test/errors.test.ts.)
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { nativeBinding, OPS, serializeProgram } from '../ts/internal.js';
import { mutate, parseGraph } from './helpers/graph-bytes.js';
import { trackPrograms } from './helpers/track.js';

const track = trackPrograms();
const MAX_ARENA = 1 << 28;

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

/** Detaches `a`'s ArrayBuffer as postMessage does (structuredClone with transfer); returns the clone. */
function detach(a: { buffer: ArrayBufferLike }): ArrayBuffer {
  const moved = structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return moved as ArrayBuffer;
}

/** A Float64Array of `values` on a SharedArrayBuffer. */
function sharedF64(values: readonly number[]): Float64Array {
  const a = new Float64Array(new SharedArrayBuffer(8 * values.length));
  a.set(values);
  return a;
}

describe('detached ArrayBuffers (transferred to a worker or by structuredClone)', () => {
  // f(w, x) = Σ w·x, gradient with respect to w is x.
  const p = track(wg.compile((w, x) => wg.sum(wg.mul(w!, x!)), { args: [wg.f64([3]), wg.f64([3])] }));
  const fresh = (): Float64Array => Float64Array.of(1, 2, 3);

  it('detaching really empties the view (so the cases below test detached input)', () => {
    const a = fresh();
    const moved = detach(a);
    expect(a.length).toBe(0);
    expect(a.byteLength).toBe(0);
    expect(new Float64Array(moved)).toEqual(fresh());
  });

  it('a detached input to run, valueAndGrad and valueAndGradAsync: RangeError WENGERT_INPUT_LENGTH', async () => {
    type Call = (w: Float64Array, x: Float64Array) => unknown;
    const calls: Call[] = [(w, x) => p.run(w, x), (w, x) => p.valueAndGrad(w, x), (w, x) => p.valueAndGradAsync(w, x)];
    for (const call of calls) {
      for (const which of [0, 1]) {
        const inputs = [fresh(), fresh()] as [Float64Array, Float64Array];
        detach(inputs[which]!);
        const err = await caught(() => call(...inputs));
        expect(err).toBeInstanceOf(wg.WengertRangeError);
        expect(err.code).toBe('WENGERT_INPUT_LENGTH');
        expect(err.message).toMatch(`input ${which}: expected 3 elements`);
        expect(err.message).toMatch('got 0');
      }
    }
    // The program is unharmed.
    expect(p.valueAndGrad(fresh(), fresh()).value).toBe(14);
  });

  it('a detached direction (jvp tangent, vjp cotangent): WENGERT_INPUT_LENGTH', async () => {
    const t = fresh();
    detach(t);
    expect((await caught(() => p.jvp([fresh(), fresh()], [t]))).code).toBe('WENGERT_INPUT_LENGTH');
    const q = track(wg.compile((x) => wg.exp(x!), { args: [wg.f64([3])] }));
    const u = fresh();
    detach(u);
    expect((await caught(() => q.vjp([fresh()], u))).code).toBe('WENGERT_INPUT_LENGTH');
  });

  it('the native binding: detached inputs and outputs are empty views, never read or written', async () => {
    const native = nativeBinding().compile(serializeProgram(p, 'valueAndGrad'), MAX_ARENA);
    try {
      const outs = (): Float64Array[] => [new Float64Array(1), new Float64Array(3)];
      // Good buffers run.
      const o = outs();
      native.run([fresh(), fresh()], o);
      expect(o[0]![0]).toBe(14);

      const w = fresh();
      detach(w);
      for (const run of [(i: Float64Array[], q: Float64Array[]) => native.run(i, q), (i: Float64Array[], q: Float64Array[]) => native.runAsync(i, q)]) {
        const e1 = await caught(() => run([w, fresh()], outs()));
        expect(e1.code).toBe('WENGERT_INPUT_LENGTH');
        expect(e1.message).toMatch('input 0 must have 3 elements, got 0');
        const bad = outs();
        detach(bad[1]!);
        const e2 = await caught(() => run([fresh(), fresh()], bad));
        expect(e2.code).toBe('WENGERT_OUTPUT_SPEC');
        expect(e2.message).toMatch('output 1 must have 3 elements, got 0');
      }
    } finally {
      native.dispose();
    }
  });

  it('a detached empty input is an empty input: a program with a zero-size argument runs', () => {
    const q = track(wg.compile((x, e) => wg.add(wg.sum(x!), wg.sum(e!)), { args: [wg.f64([2]), wg.f64([0])] }));
    const e = new Float64Array(0);
    detach(e);
    expect(q.run(Float64Array.of(1, 2), e)).toBe(3);
  });

  it('a detached graph buffer: WENGERT_BAD_GRAPH, not a read of freed memory', async () => {
    const bytes = Uint8Array.from(serializeProgram(p, 'forward'));
    detach(bytes);
    const err = await caught(() => nativeBinding().compile(bytes, MAX_ARENA));
    expect(err.code).toBe('WENGERT_BAD_GRAPH');
    expect(err.message).toMatch('0 bytes');
  });
});

describe('SharedArrayBuffer-backed typed arrays are accepted', () => {
  const p = track(wg.compile((w, x) => wg.sum(wg.mul(w!, wg.exp(x!))), { args: [wg.f64([3]), wg.f64([3])] }));
  const w = [0.5, -1, 2];
  const x = [0.1, 0.2, -0.3];

  it('as inputs to run, valueAndGrad and valueAndGradAsync: the same bits as ordinary arrays', async () => {
    const plain = p.valueAndGrad(Float64Array.from(w), Float64Array.from(x));
    expect(p.run(sharedF64(w), sharedF64(x))).toBe(plain.value);
    const s = p.valueAndGrad(sharedF64(w), sharedF64(x));
    expect(s.value).toBe(plain.value);
    expect(s.grads[0]).toEqual(plain.grads[0]);
    const a = await p.valueAndGradAsync(sharedF64(w), sharedF64(x));
    expect(a.value).toBe(plain.value);
    expect(a.grads[0]).toEqual(plain.grads[0]);
  });

  it('as outputs of the native binding, and as the graph buffer', async () => {
    const bytes = serializeProgram(p, 'valueAndGrad');
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    const native = nativeBinding().compile(shared, MAX_ARENA);
    try {
      const ref = [new Float64Array(1), new Float64Array(3)];
      native.run([Float64Array.from(w), Float64Array.from(x)], ref);
      const out = [sharedF64([0]), sharedF64([0, 0, 0])];
      native.run([sharedF64(w), sharedF64(x)], out);
      expect(Array.from(out[0]!)).toEqual(Array.from(ref[0]!));
      expect(Array.from(out[1]!)).toEqual(Array.from(ref[1]!));
      const out2 = [sharedF64([0]), sharedF64([0, 0, 0])];
      await native.runAsync([sharedF64(w), sharedF64(x)], out2);
      expect(Array.from(out2[1]!)).toEqual(Array.from(ref[1]!));
    } finally {
      native.dispose();
    }
  });

  it('a typed array that views part of a shared buffer reads only its own elements', () => {
    const buf = new SharedArrayBuffer(8 * 8);
    const all = new Float64Array(buf);
    all.set([9, 9, ...w, 9, 9, 9]);
    const view = new Float64Array(buf, 16, 3);
    expect(p.run(view, Float64Array.from(x))).toBe(p.run(Float64Array.from(w), Float64Array.from(x)));
  });
});

describe('other typed arrays and array-likes are refused with a code', () => {
  const p = track(wg.compile((x) => wg.sum(x!), { args: [wg.f64([4])] }));
  it('views of the right byte size but the wrong element type, DataView, Array, objects', async () => {
    const fakes: unknown[] = [
      new Uint8Array(32),
      new BigInt64Array(4),
      new Uint32Array(8),
      new DataView(new ArrayBuffer(32)),
      new ArrayBuffer(32),
      { length: 4, 0: 1, 1: 2, 2: 3, 3: 4 },
      new Proxy(new Float64Array(4), {}), // passes instanceof, but its length cannot be read
      Object.create(Float64Array.prototype, { length: { value: 4 } }) as unknown, // instanceof, no typed array inside
    ];
    for (const [k, f] of fakes.entries()) {
      const err = await caught(() => (p.run as (...xs: unknown[]) => unknown)(f));
      expect(err.code, `fake ${k}: ${err.message}`).toBe('WENGERT_INPUT_DTYPE');
    }
  });

  it('the native binding refuses them too, inputs and outputs', async () => {
    const native = nativeBinding().compile(serializeProgram(p, 'forward'), MAX_ARENA);
    try {
      const run = (i: unknown, o: unknown): void => native.run(i as never, o as never);
      for (const f of [new Uint8Array(32), new DataView(new ArrayBuffer(32)), [1, 2, 3, 4], null, undefined, 7]) {
        expect((await caught(() => run([f], [new Float64Array(1)]))).code).toBe('WENGERT_INPUT_DTYPE');
        expect((await caught(() => run([new Float64Array(4)], [f]))).code).toBe('WENGERT_OUTPUT_SPEC');
      }
      // A typed array first selects the flat form run(input0, ..., output0, ...): the Array is then a wrong output.
      expect((await caught(() => run(new Float64Array(4), [new Float64Array(1)]))).code).toBe('WENGERT_OUTPUT_SPEC');
      expect((await caught(() => run([new Float64Array(4)], new Float64Array(1)))).code).toBe('WENGERT_OUTPUT_SPEC');
      // An inputs array whose element getter throws: that exception, nothing run.
      const trap = [new Float64Array(4)];
      Object.defineProperty(trap, 0, {
        get() {
          throw new Error('getter says no');
        },
      });
      expect((await caught(() => run(trap, [new Float64Array(1)]))).message).toBe('getter says no');
    } finally {
      native.dispose();
    }
  });
});

describe('int32 indices at and beyond the limits', () => {
  const gather = track(wg.compile((x, i) => wg.gather(x!, i!), { args: [wg.f64([5]), wg.i32([3])] }));
  const x = Float64Array.of(10, 11, 12, 13, 14);
  const runGather = (idx: number[]): unknown => (gather.run as (...xs: unknown[]) => unknown)(x, Int32Array.from(idx));

  it('valid indices gather (so the failures below are about the values)', () => {
    expect(runGather([4, 0, 2])).toEqual(Float64Array.of(14, 10, 12));
  });

  it('negative, one past the end, 2^31 - 1 and -2^31: RangeError WENGERT_INDEX_OUT_OF_RANGE naming value and position', async () => {
    for (const [idx, bad, pos] of [
      [[0, -1, 1], -1, 1],
      [[5, 0, 0], 5, 0],
      [[0, 1, 2 ** 31 - 1], 2 ** 31 - 1, 2],
      [[-(2 ** 31), 0, 0], -(2 ** 31), 0],
    ] as [number[], number, number][]) {
      const err = await caught(() => runGather(idx));
      expect(err).toBeInstanceOf(wg.WengertRangeError);
      expect(err.code).toBe('WENGERT_INDEX_OUT_OF_RANGE');
      expect(err.message).toMatch(`${bad} at position ${pos} is out of range [0, 5)`);
    }
  });

  it('scatterAdd and oneHot check every index before writing', async () => {
    const scatter = track(wg.compile((x, i, u) => wg.scatterAdd(x!, i!, u!), { args: [wg.f64([5]), wg.i32([2]), wg.f64([2])], wrt: [] }));
    const err = await caught(() => (scatter.run as (...xs: unknown[]) => unknown)(x, Int32Array.of(0, 2 ** 31 - 1), Float64Array.of(1, 1)));
    expect(err.code).toBe('WENGERT_INDEX_OUT_OF_RANGE');
    const oneHot = track(wg.compile((i) => wg.oneHot(i!, 4), { args: [wg.i32([2])], wrt: [] }));
    expect((await caught(() => (oneHot.run as (...xs: unknown[]) => unknown)(Int32Array.of(3, -(2 ** 31))))).code).toBe('WENGERT_INDEX_OUT_OF_RANGE');
  });

  it('casting floats beyond the int32 range saturates and NaN becomes 0 (no undefined conversion)', () => {
    const q = track(wg.compile((v) => wg.cast(v!, 'int32'), { args: [wg.f64([6])] }));
    const got = q.run(Float64Array.of(1e300, -1e300, Number.NaN, Infinity, 2 ** 31 - 1, -(2 ** 31) - 0.5));
    expect(Array.from(got as Int32Array)).toEqual([2 ** 31 - 1, -(2 ** 31), 0, 2 ** 31 - 1, 2 ** 31 - 1, -(2 ** 31)]);
  });

  it('an int32 argument given a number outside int32 or not an integer: WENGERT_INPUT_DTYPE', async () => {
    const q = track(wg.compile((i) => wg.cast(i!, 'float64'), { args: [wg.i32([])], wrt: [] }));
    expect(q.run(2 ** 31 - 1)).toBe(2 ** 31 - 1);
    expect((await caught(() => q.run(0.5))).code).toBe('WENGERT_INPUT_DTYPE');
  });
});

describe('crafted graphs with shapes that overflow: WENGERT_BAD_GRAPH or WENGERT_ARENA_LIMIT', () => {
  // exp of a rank-8 argument: its dims sit in the arg record and in both node records.
  const p = track(wg.compile((x) => wg.exp(x!), { args: [wg.f64([1, 1, 1, 1, 1, 1, 1, 1])] }));
  const bytes = serializeProgram(p, 'forward');
  const graph = parseGraph(bytes);
  /** The graph with every dim of the argument and of every node set to `dims`. */
  const withDims = (dims: readonly number[]): Uint8Array =>
    mutate(bytes, (v) => {
      const at = [graph.args[0]!.offset + 4, ...graph.nodes.map((n) => n.dimsOffset)];
      for (const o of at) dims.forEach((d, k) => v.setUint32(o + 4 * k, d, true));
    });
  const compileErr = async (b: Uint8Array, maxArena = MAX_ARENA): Promise<Error & { code?: unknown }> =>
    caught(() => nativeBinding().compile(b, maxArena).dispose());

  it('the graph as traced compiles, and so does a small edit of its dims', () => {
    expect(graph.args[0]!.dims).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(graph.nodes.map((n) => OPS.exp.code === n.opcode || OPS.input.code === n.opcode)).toEqual([true, true]);
    nativeBinding().compile(withDims([2, 3, 1, 1, 1, 1, 1, 1]), MAX_ARENA).dispose();
  });

  it('eight dims of 2^31 - 1 (element count about 2^248): BAD_GRAPH, overflow named', async () => {
    const err = await compileErr(withDims(Array(8).fill(2 ** 31 - 1)));
    expect(err.code).toBe('WENGERT_BAD_GRAPH');
    expect(err.message).toMatch('overflows');
  });

  it('element counts past 2^53 (exact in JavaScript) and byte counts past 2^64: BAD_GRAPH', async () => {
    // 2^27 · 2^27 = 2^54 elements; 2^32 · 2^32 = 2^64 elements would wrap a 64-bit byte count to 0.
    for (const dims of [
      [2 ** 27, 2 ** 27, 1, 1, 1, 1, 1, 1],
      [2 ** 16, 2 ** 16, 2 ** 16, 2 ** 16, 1, 1, 1, 1],
      [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 1, 1, 1, 1, 1],
    ]) {
      const err = await compileErr(withDims(dims));
      expect(err.code, dims.join(',')).toBe('WENGERT_BAD_GRAPH');
      expect(err.message).toMatch('overflows');
    }
  });

  it('a dim of 2^31 or more: BAD_GRAPH', async () => {
    for (const d of [2 ** 31, 2 ** 32 - 1]) {
      const err = await compileErr(withDims([d, 1, 1, 1, 1, 1, 1, 1]));
      expect(err.code).toBe('WENGERT_BAD_GRAPH');
      expect(err.message).toMatch('over the maximum of 2^31 - 1');
    }
  });

  it('a valid shape too large to hold (2^52 float64 elements, 2^55 bytes): ARENA_LIMIT, nothing allocated', async () => {
    const err = await compileErr(withDims([2 ** 26, 2 ** 26, 1, 1, 1, 1, 1, 1]), Number.MAX_SAFE_INTEGER);
    expect(err.code).toBe('WENGERT_ARENA_LIMIT');
  });

  it('header counts far beyond the buffer (2^32 - 1 args, nodes, outputs, pool bytes): BAD_GRAPH before any allocation', async () => {
    for (const field of [16, 20, 24, 28]) {
      const err = await compileErr(mutate(bytes, (v) => v.setUint32(field, 2 ** 32 - 1, true)));
      expect(err.code, `field at byte ${field}`).toBe('WENGERT_BAD_GRAPH');
      expect(err.message).toMatch('follow the header');
    }
  });
});

describe('non-finite inputs propagate by default (no checkFinite): no error', () => {
  it('NaN and ±Infinity flow through values and gradients', async () => {
    const p = track(wg.compile((w, x) => wg.sum(wg.mul(w!, x!)), { args: [wg.f64([3]), wg.f64([3])] }));
    const w = Float64Array.of(Number.NaN, 1, 2);
    const x = Float64Array.of(1, Infinity, -Infinity);
    expect(p.run(w, x)).toBeNaN();
    const g = p.valueAndGrad(Float64Array.of(1, 1, 0), x);
    expect(g.value).toBeNaN(); // inf - inf
    expect(Array.from(g.grads[0]!)).toEqual([1, Infinity, -Infinity]);
    const a = await p.valueAndGradAsync(Float64Array.of(1, 1, 0), x);
    expect(Array.from(a.grads[0]!)).toEqual([1, Infinity, -Infinity]);
  });

  it('float32 too: an overflow to Infinity is a value, not an error', () => {
    const p = track(wg.compile((x) => wg.exp(x!), { args: [wg.f32([3])] }));
    expect(Array.from(p.run(Float32Array.of(100, Number.NaN, -Infinity)) as Float32Array)).toEqual([Infinity, Number.NaN, 0]);
  });
});
