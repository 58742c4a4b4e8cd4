// The two native build descriptions must compile the same sources: binding.gyp (node-gyp, used
// at install time and by prebuildify) and CMakeLists.txt (cmake-js development builds and the
// native tests). Both list their sources explicitly; this test parses both and compares them
// with each other and with the .cpp files in native/src.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function gypSources(): string[] {
  // binding.gyp is strict JSON apart from whole-line '#' comments.
  const text = readFileSync(join(root, 'binding.gyp'), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  const gyp = JSON.parse(text) as { targets: Array<{ target_name: string; sources: string[] }> };
  const target = gyp.targets.find((t) => t.target_name === 'wengert');
  if (!target) throw new Error('binding.gyp has no target "wengert"');
  return target.sources;
}

function cmakeList(name: string): string[] {
  const text = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
  const m = new RegExp(`set\\(\\s*${name}\\s+([^)]*)\\)`).exec(text);
  if (!m) throw new Error(`CMakeLists.txt has no set(${name} ...)`);
  return m[1]!
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .flatMap((line) => line.split(/\s+/))
    .filter((s) => s.length > 0);
}

const sorted = (xs: string[]) => [...xs].sort();

describe('native build files', () => {
  it('binding.gyp and CMakeLists.txt list the same sources', () => {
    const cmake = [...cmakeList('WENGERT_ENGINE_SOURCES'), ...cmakeList('WENGERT_ADDON_SOURCES')];
    expect(sorted(gypSources())).toEqual(sorted(cmake));
  });

  it('every .cpp in native/src is built, and nothing else', () => {
    const onDisk = readdirSync(join(root, 'native/src'))
      .filter((f) => f.endsWith('.cpp'))
      .map((f) => `native/src/${f}`);
    expect(sorted(gypSources())).toEqual(sorted(onDisk));
  });

  it('the addon source is only in the addon target, the engine library has the rest', () => {
    expect(cmakeList('WENGERT_ADDON_SOURCES')).toEqual(['native/src/addon.cpp']);
    expect(cmakeList('WENGERT_ENGINE_SOURCES')).not.toContain('native/src/addon.cpp');
  });

  it('every native test source is built', () => {
    const onDisk = readdirSync(join(root, 'native/test'))
      .filter((f) => f.endsWith('.cpp'))
      .map((f) => `native/test/${f}`);
    expect(sorted(cmakeList('WENGERT_TEST_SOURCES'))).toEqual(sorted(onDisk));
  });
});
