// The two native build descriptions must compile the same sources: binding.gyp (node-gyp, used
// at install time and by prebuildify) and CMakeLists.txt (cmake-js development builds and the
// native tests). Both list their sources explicitly; this test parses both and compares them
// with each other and with the .cpp files under native/src (subfolders included).
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

/** Every .cpp file under native/<dir>, as a path from the project root. */
function cppFilesUnder(dir: string): string[] {
  return (readdirSync(join(root, 'native', dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.cpp'))
    .map((f) => `native/${dir}/${f.split('\\').join('/')}`);
}

/** Whether a source file uses Node-API (and so belongs to the addon, not the engine library). */
const usesNodeApi = (file: string) => /#include\s*<napi\.h>|#include\s*"napi_util\.h"/.test(readFileSync(join(root, file), 'utf8'));

describe('native build files', () => {
  it('binding.gyp and CMakeLists.txt list the same sources', () => {
    const cmake = [...cmakeList('WENGERT_ENGINE_SOURCES'), ...cmakeList('WENGERT_ADDON_SOURCES')];
    expect(sorted(gypSources())).toEqual(sorted(cmake));
  });

  it('every .cpp under native/src is built, and nothing else', () => {
    expect(sorted(gypSources())).toEqual(sorted(cppFilesUnder('src')));
  });

  it('the Node-API sources are the addon target, the engine library (native tests) has the rest', () => {
    const all = cppFilesUnder('src');
    expect(sorted(cmakeList('WENGERT_ADDON_SOURCES'))).toEqual(sorted(all.filter(usesNodeApi)));
    expect(sorted(cmakeList('WENGERT_ENGINE_SOURCES'))).toEqual(sorted(all.filter((f) => !usesNodeApi(f))));
    expect(cmakeList('WENGERT_ADDON_SOURCES')).toContain('native/src/addon.cpp');
  });

  it('every native test source is built', () => {
    expect(sorted(cmakeList('WENGERT_TEST_SOURCES'))).toEqual(sorted(cppFilesUnder('test')));
  });
});
