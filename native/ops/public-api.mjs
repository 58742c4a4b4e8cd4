// Reads the public op functions and their TSDoc from ts/ops/*.ts with the TypeScript compiler API,
// for docs/OPS.md: the TSDoc beside each function is the one place its definition, domain and
// derivative convention are written.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Public functions exported from ts/index.ts that are ops (not compile, specs, classes). */
function exportedNames(root) {
  const text = readFileSync(join(root, 'ts/index.ts'), 'utf8');
  const names = new Set();
  const block = /export\s*\{([^}]*)\}\s*from\s*'\.\/ops\/index\.js'/g;
  for (let m = block.exec(text); m !== null; m = block.exec(text)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().split(/\s+as\s+/).pop();
      if (name) names.add(name);
    }
  }
  return names;
}

function docOf(node, source) {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const docs = ranges.map((r) => source.text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
  if (docs.length === 0) return '';
  return docs[docs.length - 1]
    .replace(/^\/\*\*\s?/, '')
    .replace(/\s*\*\/$/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

function signatureOf(fn, source) {
  const params = fn.parameters.map((p) => p.getText(source).replace(/\s+/g, ' ')).join(', ');
  return `${fn.name.text}(${params})`;
}

/**
 * The public ops: `{ name, family, signature, doc }` sorted by family then name. Fails if an
 * exported op has no TSDoc.
 */
export function publicOps(root) {
  const exported = exportedNames(root);
  const dir = join(root, 'ts/ops');
  const out = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'core.ts').sort()) {
    const source = ts.createSourceFile(file, readFileSync(join(dir, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    for (const st of source.statements) {
      if (!ts.isFunctionDeclaration(st) || !st.name || !exported.has(st.name.text)) continue;
      const isExported = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (!isExported || st.body === undefined) continue;
      const doc = docOf(st, source);
      if (doc === '' || doc.includes('@internal')) throw new Error(`public op ${st.name.text} (ts/ops/${file}) has no TSDoc`);
      out.push({ name: st.name.text, family: file.replace(/\.ts$/, ''), signature: signatureOf(st, source), doc });
    }
  }
  const missing = [...exported].filter((n) => !out.some((o) => o.name === n));
  if (missing.length > 0) throw new Error(`exported ops not found in ts/ops/*.ts: ${missing.join(', ')}`);
  return out;
}
