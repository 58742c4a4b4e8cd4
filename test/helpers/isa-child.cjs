// Run by test/isa.test.ts in a fresh node with WENGERT_ISA set: loads the addon, reports the
// instruction-set choice, and runs each serialized program on its input, writing the outputs.
//   node isa-child.cjs <package root> <case dir>
// <case dir>/cases.json lists { name, dtype, n }; <name>.graph and <name>.in hold the program
// and its input bytes; <name>.out receives the output bytes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const [root, dir] = process.argv.slice(2);
const binding = require('node-gyp-build')(root);
const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
const tag = process.env.WENGERT_ISA ?? 'default';
for (const c of cases) {
  const graph = new Uint8Array(fs.readFileSync(path.join(dir, `${c.name}.graph`)));
  const raw = fs.readFileSync(path.join(dir, `${c.name}.in`));
  const Arr = c.dtype === 'float64' ? Float64Array : Float32Array;
  const x = new Arr(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const y = new Arr(c.n);
  const p = binding.compile(graph, 1 << 30);
  p.run([x], [y]);
  p.dispose();
  fs.writeFileSync(path.join(dir, `${c.name}.${tag}.out`), new Uint8Array(y.buffer));
}
process.stdout.write(JSON.stringify({ choice: binding.isa(), available: binding.isaAvailable() }));
