// The op list (native/ops/ops.json) is the single source of truth: the engine, the TypeScript
// registry and the derivative rules must all cover exactly its ops, and the generated files must
// be current.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPS, nativeBinding, opsMissingJvpRules, opsMissingRules } from '../ts/internal.js';

const root = join(__dirname, '..');
const list = JSON.parse(readFileSync(join(root, 'native/ops/ops.json'), 'utf8')) as { ops: { name: string }[] };
const names = list.ops.map((o) => o.name).sort();

describe('op list', () => {
  it('generated files are up to date', () => {
    execFileSync(process.execPath, [join(root, 'native/ops/gen.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('the engine implements exactly the listed ops', () => {
    expect([...nativeBinding().opNames()].sort()).toEqual(names);
  });

  it('the TypeScript registry has exactly the listed ops', () => {
    expect(Object.keys(OPS).sort()).toEqual(names);
  });

  it('every differentiable op has a derivative rule', () => {
    expect(opsMissingRules()).toEqual([]);
  });

  it('every differentiable op has a forward-mode (JVP) rule', () => {
    expect(opsMissingJvpRules()).toEqual([]);
  });
});
