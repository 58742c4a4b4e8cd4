// Run by test/fusion.test.ts in a fresh node with WENGERT_FUSION=0: compiles each serialized
// program without fusion, runs it on its inputs and writes its outputs and arena size.
//   node fusion-child.cjs <package root> <case dir>
// <case dir>/cases.json lists { name, dtype, inputs: [lengths], outputs: [lengths] };
// <name>.graph holds the program, <name>.in its inputs one after another; <name>.out receives
// the outputs one after another. Prints { name: arenaBytes }.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const [root, dir] = process.argv.slice(2);
const binding = require('node-gyp-build')(root);
const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
const arenas = {};
for (const c of cases) {
  const Arr = c.dtype === 'float64' ? Float64Array : Float32Array;
  const graph = new Uint8Array(fs.readFileSync(path.join(dir, `${c.name}.graph`)));
  const raw = fs.readFileSync(path.join(dir, `${c.name}.in`));
  const all = new Arr(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let at = 0;
  const inputs = c.inputs.map((n) => all.slice(at, (at += n)));
  const outputs = c.outputs.map((n) => new Arr(n));
  const p = binding.compile(graph, 2 ** 40);
  p.run(inputs, outputs);
  arenas[c.name] = p.arenaBytes();
  p.dispose();
  const out = new Arr(c.outputs.reduce((a, b) => a + b, 0));
  at = 0;
  for (const o of outputs) out.set(o, (at += o.length) - o.length);
  fs.writeFileSync(path.join(dir, `${c.name}.out`), new Uint8Array(out.buffer));
}
process.stdout.write(JSON.stringify(arenas));
