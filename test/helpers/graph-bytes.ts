// Reading and re-sealing serialized graphs (docs/FORMAT.md, version 1), so that tests can
// corrupt one field at a time and still present a valid header and CRC to the engine.

/** CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, initial and final xor 0xFFFFFFFF). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

export const HEADER_BYTES = 16;

export interface NodeRecord {
  /** Byte offset of the record (its opcode field). */
  readonly offset: number;
  readonly opcode: number;
  readonly dtype: number;
  readonly rank: number;
  readonly nInputs: number;
  readonly nIattrs: number;
  readonly nFattrs: number;
  readonly dims: number[];
  readonly inputs: number[];
  /** Byte offset of inputs[0]. */
  readonly inputsOffset: number;
  /** Byte offset of dims[0]. */
  readonly dimsOffset: number;
  readonly iattrs: bigint[];
  readonly fattrs: number[];
}

export interface ParsedGraph {
  readonly magic: string;
  readonly version: number;
  readonly flags: number;
  readonly byteLength: number;
  readonly crc: number;
  readonly nArgs: number;
  readonly nNodes: number;
  readonly nOutputs: number;
  readonly poolLength: number;
  readonly args: { offset: number; dtype: number; dims: number[] }[];
  readonly nodes: NodeRecord[];
  readonly outputsOffset: number;
  readonly outputs: number[];
  readonly poolOffset: number;
}

/** Parses a well-formed buffer (throws on a malformed one: this is a test tool, not a validator). */
export function parseGraph(bytes: Uint8Array): ParsedGraph {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  const nArgs = v.getUint32(16, true);
  const nNodes = v.getUint32(20, true);
  const nOutputs = v.getUint32(24, true);
  const poolLength = v.getUint32(28, true);
  let o = 32;
  const args: ParsedGraph['args'] = [];
  for (let a = 0; a < nArgs; a++) {
    const offset = o;
    const dtype = v.getUint8(o);
    const rank = v.getUint8(o + 1);
    o += 4;
    const dims: number[] = [];
    for (let k = 0; k < rank; k++, o += 4) dims.push(v.getUint32(o, true));
    args.push({ offset, dtype, dims });
  }
  const nodes: NodeRecord[] = [];
  for (let n = 0; n < nNodes; n++) {
    const offset = o;
    const opcode = v.getUint16(o, true);
    const dtype = v.getUint8(o + 2);
    const rank = v.getUint8(o + 3);
    const nInputs = v.getUint8(o + 4);
    const nIattrs = v.getUint8(o + 5);
    const nFattrs = v.getUint8(o + 6);
    o += 8;
    const dimsOffset = o;
    const dims: number[] = [];
    for (let k = 0; k < rank; k++, o += 4) dims.push(v.getUint32(o, true));
    const inputsOffset = o;
    const inputs: number[] = [];
    for (let k = 0; k < nInputs; k++, o += 4) inputs.push(v.getUint32(o, true));
    const iattrs: bigint[] = [];
    for (let k = 0; k < nIattrs; k++, o += 8) iattrs.push(v.getBigInt64(o, true));
    const fattrs: number[] = [];
    for (let k = 0; k < nFattrs; k++, o += 8) fattrs.push(v.getFloat64(o, true));
    nodes.push({ offset, opcode, dtype, rank, nInputs, nIattrs, nFattrs, dims, inputs, inputsOffset, dimsOffset, iattrs, fattrs });
  }
  const outputsOffset = o;
  const outputs: number[] = [];
  for (let k = 0; k < nOutputs; k++, o += 4) outputs.push(v.getUint32(o, true));
  const poolOffset = o;
  if (poolOffset + poolLength !== bytes.length) {
    throw new Error(`parseGraph: records end at ${poolOffset} + pool ${poolLength}, buffer has ${bytes.length} bytes`);
  }
  return {
    magic,
    version: v.getUint16(4, true),
    flags: v.getUint16(6, true),
    byteLength: v.getUint32(8, true),
    crc: v.getUint32(12, true),
    nArgs,
    nNodes,
    nOutputs,
    poolLength,
    args,
    nodes,
    outputsOffset,
    outputs,
    poolOffset,
  };
}

/** Rewrites byte_length and the CRC so that only the deliberate corruption remains. */
export function reseal(bytes: Uint8Array): Uint8Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(8, bytes.length, true);
  v.setUint32(12, crc32(bytes, HEADER_BYTES), true);
  return bytes;
}

/** A copy of `bytes` edited by `edit` through a DataView, then resealed unless `seal` is false. */
export function mutate(bytes: Uint8Array, edit: (v: DataView, b: Uint8Array) => void, seal = true): Uint8Array {
  const copy = Uint8Array.from(bytes);
  edit(new DataView(copy.buffer), copy);
  return seal ? reseal(copy) : copy;
}
