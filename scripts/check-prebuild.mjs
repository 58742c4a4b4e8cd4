// Proves the N-API prebuild in prebuilds/ loads and runs on its own: the build/ folder is hidden
// and no compiler is consulted (node-gyp-build only loads files, it never builds at require time).
import { existsSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = join(root, 'build');
const hidden = join(root, 'build.hidden-for-prebuild-check');
const require = createRequire(import.meta.url);
if (existsSync(build)) renameSync(build, hidden);
try {
  const binding = require('node-gyp-build')(root);
  const path = require('node-gyp-build').resolve(root);
  if (!path.includes(`${'prebuilds'}`)) throw new Error(`loaded ${path}, not a prebuild`);
  const wg = require(join(root, 'dist', 'index.js'));
  const p = wg.compile((x) => wg.sum(wg.square(x)), { args: [wg.f64([3])] });
  const { value, grads } = p.valueAndGrad(new Float64Array([1, 2, 3]));
  if (value !== 14 || grads[0][2] !== 6) throw new Error(`wrong result ${value} ${grads[0]}`);
  console.log(`prebuild ok: ${path} (format ${binding.formatVersion})`);
} finally {
  if (existsSync(hidden)) renameSync(hidden, build);
}
