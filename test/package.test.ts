// The package as users load it: built output, ESM import, CommonJS require and the typings.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

const program = `
  const p = wg.compile((w, x) => wg.sum(wg.mul(w, x).square()), { args: [wg.f64([2]), wg.f64([2])] });
  const r = p.valueAndGrad(new Float64Array([1, 2]), new Float64Array([3, 4]));
  console.log(JSON.stringify([r.value, Array.from(r.grads[0]), r.grads[0].constructor.name]));
`;

describe('package entry points', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'pipe' });
  }, 120_000);

  it('ships typings', () => {
    expect(existsSync(join(root, 'dist/index.d.ts'))).toBe(true);
  });

  it('loads with import (ESM)', () => {
    const out = node(['--input-type=module', '-e', `import * as wg from 'wengert';${program}`]);
    // f = (1·3)² + (2·4)² = 73; ∂f/∂w = 2·w·x² = [18, 64].
    expect(JSON.parse(out)).toEqual([73, [18, 64], 'Float64Array']);
  });

  it('loads with require (CommonJS)', () => {
    const out = node(['-e', `const wg = require('wengert');${program}`]);
    expect(JSON.parse(out)).toEqual([73, [18, 64], 'Float64Array']);
  });

  it('ESM and CommonJS share one module instance', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import * as wg from 'wengert'; import { createRequire } from 'node:module';
       const cjs = createRequire(process.cwd() + '/x.js')('wengert');
       console.log(wg.compile === cjs.compile && wg.Tensor === cjs.Tensor);`,
    ]);
    expect(out.trim()).toBe('true');
  });
});
