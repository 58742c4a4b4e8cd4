/**
 * Writes a traced program in the binary format of docs/FORMAT.md (version 1). Only the nodes the
 * outputs depend on are written, renumbered in their original (SSA) order.
 */
import { dtypeCode } from './dtype.js';
import { arity, inputOf, type ArgSpec, type Graph, type Node } from './graph.js';
import { OPS } from './generated/ops.js';

/** The format version this writer produces. */
export const FORMAT_VERSION = 1;

/**
 * CRC-32 lookup tables for slicing by 8: table k (entries [256k, 256k + 256)) gives the CRC of a
 * byte followed by k zero bytes, so eight bytes are folded per step by independent lookups.
 */
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = t[256 * (k - 1) + n]!;
      t[256 * k + n] = (t[prev & 0xff]! ^ (prev >>> 8)) >>> 0;
    }
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  for (const end = bytes.length - 7; i < end; i += 8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The nodes `outputs` depend on, in id order. */
export function liveNodes(graph: Graph, outputs: readonly Node[]): Node[] {
  const all = graph.nodes;
  const live = new Uint8Array(all.length);
  for (const o of outputs) live[o.id] = 1;
  let count = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    if (live[i] !== 1) continue;
    count++;
    const node = all[i]!;
    const operands = arity(node);
    for (let k = 0; k < operands; k++) live[inputOf(node, k).id] = 1;
  }
  const nodes = new Array<Node>(count);
  for (let i = 0, j = 0; j < count; i++) if (live[i] === 1) nodes[j++] = all[i]!;
  return nodes;
}

/** Opcode by op name: a Map lookup per node is cheaper than a keyed load from OPS. */
const OPCODES = new Map<string, number>(Object.entries(OPS).map(([name, info]) => [name, info.code]));

/** Whether this machine stores a Uint32Array's words little-endian, as the format does. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Serialize the program computing `outputs` from `args` (default `graph.args`; a transform's
 * program passes more: its tangents or cotangents are extra arguments after the traced ones).
 * The size is computed first, then the bytes are written once into one buffer. Every field before
 * the constant pool falls on a 4-byte boundary (docs/FORMAT.md), so that part is written as 32-bit
 * words: a node record is two words of small fields, then its dims, inputs and attributes.
 */
export function serialize(graph: Graph, outputs: readonly Node[], args: readonly ArgSpec[] = graph.args): Uint8Array {
  const nodes = liveNodes(graph, outputs);
  // New index of each live node, by node id.
  const index = new Int32Array(graph.nodes.length);
  for (let i = 0; i < nodes.length; i++) index[nodes[i]!.id] = i;

  // Constant pool: each constant 8-byte aligned. Sizes of everything before it, in words.
  const constants: Node[] = [];
  const constOffsets: number[] = [];
  let poolLength = 0;
  let words = 8;
  for (const a of args) words += 1 + a.shape.length;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    let nIattrs = n.iattrs.length;
    if (n.op === 'constant') {
      nIattrs = 2;
      if (n.data !== undefined) {
        poolLength = Math.ceil(poolLength / 8) * 8;
        constants.push(n);
        constOffsets.push(poolLength);
        poolLength += n.data.byteLength;
      }
    }
    words += 2 + n.shape.length + arity(n) + 2 * nIattrs;
  }
  words += outputs.length;
  const poolStart = 4 * words;
  const length = poolStart + poolLength;

  const out = new Uint8Array(length);
  const w = new Uint32Array(out.buffer, 0, words);
  w[0] = 0x54524757; // 'WGRT'
  w[1] = FORMAT_VERSION; // version, then flags 0
  w[2] = length; // byte_length
  w[3] = 0; // crc32, patched below
  w[4] = args.length;
  w[5] = nodes.length;
  w[6] = outputs.length;
  w[7] = poolLength;
  let at = 8;
  for (const a of args) {
    w[at++] = dtypeCode(a.dtype) | (a.shape.length << 8); // dtype, rank, reserved 0
    for (const d of a.shape) w[at++] = d;
  }
  let k = 0; // the next constant's entry in constOffsets
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const constant = n.op === 'constant';
    const { shape, iattrs } = n;
    const count = arity(n);
    w[at++] = OPCODES.get(n.op)! | (dtypeCode(n.dtype) << 16) | (shape.length << 24);
    w[at++] = count | ((constant ? 2 : iattrs.length) << 8); // n_inputs, n_iattrs, n_fattrs 0, reserved 0
    for (let d = 0; d < shape.length; d++) w[at++] = shape[d]!;
    for (let j = 0; j < count; j++) w[at++] = index[inputOf(n, j).id]!;
    if (constant) {
      // byte_offset, byte_length (each a small non-negative i64: high word 0)
      const hasData = n.data !== undefined;
      w[at++] = hasData ? constOffsets[k]! : 0;
      w[at++] = 0;
      w[at++] = hasData ? n.data.byteLength : 0;
      w[at++] = 0;
      if (hasData) k++;
    } else {
      for (let j = 0; j < iattrs.length; j++) {
        // Two's complement i64 from two 32-bit halves (exact for safe integers): storing a number
        // in a Uint32Array keeps it modulo 2^32.
        const v = iattrs[j]!;
        w[at++] = v;
        w[at++] = Math.floor(v / 4294967296);
      }
    }
  }
  for (const o of outputs) w[at++] = index[o.id]!;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < words; i++) {
      const v = w[i]!;
      w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
    }
  }
  for (let c = 0; c < constants.length; c++) {
    const data = constants[c]!.data!;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), poolStart + constOffsets[c]!);
  }
  new DataView(out.buffer).setUint32(12, crc32(out.subarray(16)), true);
  return out;
}
