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

/** The nodes `outputs` depend on, in id order. */
export function liveNodes(graph: Graph, outputs: readonly Node[]): Node[] {
  const live = new Uint8Array(graph.nodes.length);
  for (const o of outputs) live[o.id] = 1;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    if (live[i] === 1) for (const x of graph.nodes[i]!.inputs) live[x.id] = 1;
  }
  return graph.nodes.filter((n) => live[n.id] === 1);
}

/**
 * Serialize the program computing `outputs` from `args` (default `graph.args`; a transform's
 * program passes more: its tangents or cotangents are extra arguments after the traced ones).
 * The size is computed first, so the bytes are written once into one buffer.
 */
export function serialize(graph: Graph, outputs: readonly Node[], args: readonly ArgSpec[] = graph.args): Uint8Array {
  const nodes = liveNodes(graph, outputs);
  // New index of each live node, by node id.
  const index = new Int32Array(graph.nodes.length);
  for (let i = 0; i < nodes.length; i++) index[nodes[i]!.id] = i;

  // Constant pool: each constant 8-byte aligned. Sizes of everything before it.
  const constOffset = new Map<Node, number>();
  let poolLength = 0;
  let length = 32;
  for (const a of args) length += 4 + 4 * a.shape.length;
  for (const n of nodes) {
    if (n.op === 'constant' && n.data !== undefined) {
      poolLength = Math.ceil(poolLength / 8) * 8;
      constOffset.set(n, poolLength);
      poolLength += n.data.byteLength;
    }
    const nIattrs = n.op === 'constant' ? 2 : n.iattrs.length;
    length += 8 + 4 * n.shape.length + 4 * n.inputs.length + 8 * nIattrs;
  }
  length += 4 * outputs.length + poolLength;

  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let at = 0;
  const u8 = (v: number): void => {
    view.setUint8(at, v);
    at += 1;
  };
  const u16 = (v: number): void => {
    view.setUint16(at, v, true);
    at += 2;
  };
  const u32 = (v: number): void => {
    view.setUint32(at, v, true);
    at += 4;
  };
  const i64 = (v: number): void => {
    // Two's complement from two 32-bit halves (exact for safe integers).
    const hi = Math.floor(v / 4294967296);
    view.setUint32(at, v - hi * 4294967296, true);
    view.setInt32(at + 4, hi, true);
    at += 8;
  };

  out.set([0x57, 0x47, 0x52, 0x54]); // 'WGRT'
  at = 4;
  u16(FORMAT_VERSION);
  u16(0);
  u32(length); // byte_length
  u32(0); // crc32, patched below
  u32(args.length);
  u32(nodes.length);
  u32(outputs.length);
  u32(poolLength);
  for (const a of args) {
    u8(dtypeCode(a.dtype));
    u8(a.shape.length);
    u16(0);
    for (const d of a.shape) u32(d);
  }
  for (const n of nodes) {
    const constant = n.op === 'constant';
    const iattrs = n.iattrs;
    u16(OPS[n.op].code);
    u8(dtypeCode(n.dtype));
    u8(n.shape.length);
    u8(n.inputs.length);
    u8(constant ? 2 : iattrs.length);
    u8(0); // n_fattrs
    u8(0);
    for (const d of n.shape) u32(d);
    for (const x of n.inputs) u32(index[x.id]!);
    if (constant) {
      i64(constOffset.get(n) ?? 0);
      i64(n.data?.byteLength ?? 0);
    } else {
      for (const v of iattrs) i64(v);
    }
  }
  for (const o of outputs) u32(index[o.id]!);
  const poolStart = at;
  for (const [n, offset] of constOffset) {
    const data = n.data!;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), poolStart + offset);
  }
  view.setUint32(12, crc32(out.subarray(16)), true);
  return out;
}
