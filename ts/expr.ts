/**
 * The derivative rules of elementwise ops are written in native/ops/ops.json as small expressions
 * (`g * (1 - z * z)`). This compiles one into a function that records the rule's ops in the graph:
 * `+ - * /`, unary minus, parentheses, numbers, the names bound by the caller and calls of other
 * elementwise ops by IR name. Each expression is parsed once.
 */
import { OPS, type OpName } from './generated/ops.js';
import { binary, unary } from './ops/core.js';
import type { Tensor, TensorLike } from './tensor.js';

type Env = Readonly<Record<string, Tensor>>;
type Compiled = (env: Env) => TensorLike;

const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const m = TOKEN.exec(src);
    if (m === null) break;
    const tok = m[1] ?? m[2] ?? m[3];
    if (tok !== undefined && tok.trim() !== '') out.push(tok);
  }
  return out;
}

function isOp(name: string): name is OpName {
  return Object.prototype.hasOwnProperty.call(OPS, name);
}

function call(name: OpName, args: TensorLike[]): TensorLike {
  const entry = OPS[name];
  if (entry.kind === 'unary' && args.length === 1) return unary(name, args[0]!);
  if (entry.kind === 'binary' && args.length === 2) return binary(name, args[0]!, args[1]!);
  throw new Error(`rule calls ${name} with ${args.length} arguments`);
}

/** Parse `src` into a function of the bound names. Throws on a malformed rule (a bug in ops.json). */
export function compileRule(src: string): Compiled {
  const toks = tokenize(src);
  let pos = 0;
  const peek = (): string | undefined => toks[pos];
  const expect = (t: string): void => {
    if (toks[pos] !== t) throw new Error(`rule "${src}": expected ${t} at token ${pos}`);
    pos++;
  };
  // Arithmetic on numbers alone is folded here: it has no tensor to record it in.
  const fold =
    (op: 'add' | 'sub' | 'mul' | 'div', a: Compiled, b: Compiled): Compiled =>
    (env) => {
      const x = a(env);
      const y = b(env);
      if (typeof x === 'number' && typeof y === 'number') {
        return op === 'add' ? x + y : op === 'sub' ? x - y : op === 'mul' ? x * y : x / y;
      }
      return binary(op, x, y);
    };

  function expr(): Compiled {
    let left = term();
    for (;;) {
      const t = peek();
      if (t !== '+' && t !== '-') return left;
      pos++;
      left = fold(t === '+' ? 'add' : 'sub', left, term());
    }
  }
  function term(): Compiled {
    let left = factor();
    for (;;) {
      const t = peek();
      if (t !== '*' && t !== '/') return left;
      pos++;
      left = fold(t === '*' ? 'mul' : 'div', left, factor());
    }
  }
  function factor(): Compiled {
    const t = toks[pos++];
    if (t === undefined) throw new Error(`rule "${src}": unexpected end`);
    if (t === '-') {
      const inner = factor();
      return (env) => {
        const v = inner(env);
        return typeof v === 'number' ? -v : unary('neg', v);
      };
    }
    if (t === '(') {
      const inner = expr();
      expect(')');
      return inner;
    }
    if (/^\d/.test(t)) {
      const value = Number(t);
      return () => value;
    }
    if (/^[A-Za-z_]/.test(t)) {
      if (peek() === '(') {
        if (!isOp(t)) throw new Error(`rule "${src}": unknown op ${t}`);
        pos++;
        const args: Compiled[] = [expr()];
        while (peek() === ',') {
          pos++;
          args.push(expr());
        }
        expect(')');
        return (env) => call(t, args.map((a) => a(env)));
      }
      return (env) => {
        const v = env[t];
        if (v === undefined) throw new Error(`rule "${src}": unbound name ${t}`);
        return v;
      };
    }
    throw new Error(`rule "${src}": unexpected token ${t}`);
  }

  const fn = expr();
  if (pos !== toks.length) throw new Error(`rule "${src}": trailing tokens`);
  return fn;
}
