#!/usr/bin/env node
// Builds and runs the native tests (native/test): a cmake-js development build (CMakeLists.txt,
// -Wall -Wextra -Werror) of the engine, the addon and the test executable, then ctest.
//   node scripts/native-tests.mjs             optimized build in build-native-tests/
//   node scripts/native-tests.mjs --sanitize  ASan + UBSan build in build-native-asan/ (no addon)
// cmake-js takes the Node-API headers from the node-api-headers package (package.json "binary"),
// so nothing is downloaded. Exits non-zero if the build or any test fails; the last lines printed
// are ctest's summary.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sanitize = process.argv.includes('--sanitize');
const buildDir = join(root, sanitize ? 'build-native-asan' : 'build-native-tests');
const jobs = String(Math.max(1, availableParallelism()));

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) {
    console.error(`native-tests: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
run(process.execPath, [
  cmakeJs, 'compile',
  '--directory', root,
  '--out', buildDir,
  '--config', sanitize ? 'RelWithDebInfo' : 'Release',
  '--parallel', jobs,
  `--CDWENGERT_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
  '--CDWENGERT_TESTS=ON',
]);
run('ctest', ['--output-on-failure', '--parallel', jobs], {
  cwd: buildDir,
  env: {
    ...process.env,
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1:strict_string_checks=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  },
});
