/**
 * Writes a traced program in the binary format of docs/FORMAT.md (version 1). Only the nodes the
 * outputs depend on are written, renumbered in their original (SSA) order.
 */
import { dtypeCode } from './dtype.js';
import type { ArgSpec, Graph, Node } from './graph.js';
import { OPS } from './generated/ops.js';

/** The format version this writer produces. */
export const FORMAT_VERSION = 1;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class Writer {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i64(v: number): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, BigInt(v), true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** The nodes `outputs` depend on, in id order. */
export function liveNodes(graph: Graph, outputs: readonly Node[]): Node[] {
  const live = new Uint8Array(graph.nodes.length);
  for (const o of outputs) live[o.id] = 1;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i] === 1) for (const x of graph.nodes[i]!.inputs) live[x.id] = 1;
  }
  return graph.nodes.filter((n) => live[n.id] === 1);
}

function writeDims(w: Writer, spec: ArgSpec | Node): void {
  for (const d of spec.shape) w.u32(d);
}

/**
 * Serialize the program computing `outputs` from `args` (default `graph.args`; a transform's
 * program passes more: its tangents or cotangents are extra arguments after the traced ones).
 */
export function serialize(graph: Graph, outputs: readonly Node[], args: readonly ArgSpec[] = graph.args): Uint8Array {
  const nodes = liveNodes(graph, outputs);
  const index = new Map<Node, number>();
  nodes.forEach((n, i) => index.set(n, i));

  // Constant pool: each constant 8-byte aligned.
  const pool: { offset: number; bytes: Uint8Array }[] = [];
  const constOffset = new Map<Node, number>();
  let poolLength = 0;
  for (const n of nodes) {
    if (n.op !== 'constant' || n.data === undefined) continue;
    poolLength = Math.ceil(poolLength / 8) * 8;
    const bytes = new Uint8Array(n.data.buffer, n.data.byteOffset, n.data.byteLength);
    constOffset.set(n, poolLength);
    pool.push({ offset: poolLength, bytes });
    poolLength += bytes.length;
  }

  const w = new Writer();
  w.bytes(new Uint8Array([0x57, 0x47, 0x52, 0x54])); // 'WGRT'
  w.u16(FORMAT_VERSION);
  w.u16(0);
  w.u32(0); // byte_length, patched below
  w.u32(0); // crc32, patched below
  w.u32(args.length);
  w.u32(nodes.length);
  w.u32(outputs.length);
  w.u32(poolLength);
  for (const a of args) {
    w.u8(dtypeCode(a.dtype));
    w.u8(a.shape.length);
    w.u16(0);
    writeDims(w, a);
  }
  for (const n of nodes) {
    let iattrs = n.iattrs;
    if (n.op === 'constant') iattrs = [constOffset.get(n)!, n.data!.byteLength];
    w.u16(OPS[n.op].code);
    w.u8(dtypeCode(n.dtype));
    w.u8(n.shape.length);
    w.u8(n.inputs.length);
    w.u8(iattrs.length);
    w.u8(0); // n_fattrs
    w.u8(0);
    writeDims(w, n);
    for (const x of n.inputs) w.u32(index.get(x)!);
    for (const v of iattrs) w.i64(v);
  }
  for (const o of outputs) w.u32(index.get(o)!);
  const poolBytes = new Uint8Array(poolLength);
  for (const p of pool) poolBytes.set(p.bytes, p.offset);
  w.bytes(poolBytes);
  w.patchU32(8, w.length);
  const out = w.result();
  new DataView(out.buffer).setUint32(12, crc32(out.subarray(16)), true);
  return out;
}
