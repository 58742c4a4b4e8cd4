// Plain JavaScript numeric code traced into wg ops, so reference problems written as JS (the
// residuals of ../shared/data/mgh.json) run through wengert unchanged.
//
// The code is parsed with the TypeScript compiler API and rewritten: every arithmetic operator
// (+ - * / %, the compound assignments += -= *= /=, unary minus) becomes a call `__.add(a, b)` …,
// and every `Math.f(…)` call becomes `__.f(…)`. Those helpers compute in plain numbers when all
// operands are numbers (loop counters, data tables, Math.sqrt(5)), and otherwise on a traced
// value `Traced { v, t }`: `t` is the wg tensor, `v` its float64 value at the point being traced.
// `valueOf()` returns `v`, so comparisons and branches (`if (x[0] > 0)`) take the branch of that
// point: the traced program is the function as specialized at that point, exactly like a tracing
// JIT — its derivatives are right there (and everywhere the branch does not change).
import ts from 'typescript';
import * as wg from '../../ts/index.js';

/** A traced scalar: its value at the trace point and its tensor. */
export class Traced {
  constructor(
    readonly v: number,
    readonly t: wg.Tensor,
  ) {}
  valueOf(): number {
    return this.v;
  }
}

type V = Traced | number;

const BINARY: Partial<Record<ts.SyntaxKind, string>> = {
  [ts.SyntaxKind.PlusToken]: 'add',
  [ts.SyntaxKind.MinusToken]: 'sub',
  [ts.SyntaxKind.AsteriskToken]: 'mul',
  [ts.SyntaxKind.SlashToken]: 'div',
  [ts.SyntaxKind.PercentToken]: 'mod',
  [ts.SyntaxKind.PlusEqualsToken]: 'add',
  [ts.SyntaxKind.MinusEqualsToken]: 'sub',
  [ts.SyntaxKind.AsteriskEqualsToken]: 'mul',
  [ts.SyntaxKind.SlashEqualsToken]: 'div',
};

const COMPOUND = new Set([ts.SyntaxKind.PlusEqualsToken, ts.SyntaxKind.MinusEqualsToken, ts.SyntaxKind.AsteriskEqualsToken, ts.SyntaxKind.SlashEqualsToken]);

/** The Math functions the rewritten code may call on traced values. */
const MATH = ['exp', 'log', 'sqrt', 'sin', 'cos', 'tan', 'atan', 'abs', 'pow', 'min', 'max'] as const;

/** Rewrite a function body (JavaScript) so its arithmetic goes through `__`. Throws on what it cannot rewrite. */
export function rewriteBody(body: string): string {
  const source = ts.createSourceFile('body.js', `function f(x) {${body}\n}`, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const f = ts.factory;
  const call = (name: string, args: ts.Expression[]): ts.Expression => f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier('__'), name), undefined, args);
  const transformer: ts.TransformerFactory<ts.Node> = (context) => {
    const visit = (node: ts.Node): ts.Node => {
      const n = ts.visitEachChild(node, visit, context);
      if (ts.isBinaryExpression(n)) {
        const op = BINARY[n.operatorToken.kind];
        if (op === undefined) return n;
        if (COMPOUND.has(n.operatorToken.kind)) {
          return f.createAssignment(n.left, call(op, [n.left, n.right]));
        }
        return call(op, [n.left, n.right]);
      }
      if (ts.isPrefixUnaryExpression(n) && n.operator === ts.SyntaxKind.MinusToken) return call('neg', [n.operand]);
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && ts.isIdentifier(n.expression.expression) && n.expression.expression.text === 'Math') {
        const name = n.expression.name.text;
        if (!(MATH as readonly string[]).includes(name)) throw new Error(`rewriteBody: Math.${name} has no wg translation`);
        return call(name, [...n.arguments]);
      }
      return n;
    };
    return (root) => ts.visitNode(root, visit) as ts.Node;
  };
  const result = ts.transform(source, [transformer]);
  const printed = ts.createPrinter().printNode(ts.EmitHint.Unspecified, result.transformed[0]!, source);
  result.dispose();
  const open = printed.indexOf('{');
  return printed.slice(open + 1, printed.lastIndexOf('}'));
}

/** The helpers the rewritten code calls, building ops in the active trace of dtype `dtype`. */
function helpers(): Record<string, (...args: V[]) => V> {
  const lift = (a: V): wg.TensorLike => (typeof a === 'number' ? a : a.t);
  const num = (a: V): number => (typeof a === 'number' ? a : a.v);
  const plain = (args: V[]): boolean => args.every((a) => typeof a === 'number');
  const binary = (js: (a: number, b: number) => number, op: (a: wg.TensorLike, b: wg.TensorLike) => wg.Tensor) => (a: V, b: V): V =>
    plain([a, b]) ? js(a as number, b as number) : new Traced(js(num(a), num(b)), op(lift(a), lift(b)));
  const unary = (js: (a: number) => number, op: (a: wg.TensorLike) => wg.Tensor) => (a: V): V => (typeof a === 'number' ? js(a) : new Traced(js(a.v), op(a.t)));
  const mod = (a: number, b: number): number => a % b;
  return {
    add: binary((a, b) => a + b, wg.add),
    sub: binary((a, b) => a - b, wg.sub),
    mul: binary((a, b) => a * b, wg.mul),
    div: binary((a, b) => a / b, wg.div),
    // JavaScript's % truncates; on traced values only the sign-agnostic case (positive operands) is used.
    mod: binary(mod, (a, b) => wg.mod(a, b)),
    neg: unary((a) => -a, wg.neg),
    exp: unary(Math.exp, wg.exp),
    log: unary(Math.log, wg.log),
    sqrt: unary(Math.sqrt, wg.sqrt),
    sin: unary(Math.sin, wg.sin),
    cos: unary(Math.cos, wg.cos),
    tan: unary(Math.tan, wg.tan),
    atan: unary(Math.atan, wg.atan),
    abs: unary(Math.abs, wg.abs),
    pow: binary(Math.pow, wg.pow),
    min: binary(Math.min, wg.minimum),
    max: binary(Math.max, wg.maximum),
  };
}

/**
 * The residual function `body` (JS, of an array x) traced inside a wg function: `x` is the traced
 * vector argument, `at` its value (the branch point). Returns the residuals as one tensor.
 */
export function traceResiduals(rewritten: string, x: wg.Tensor, at: ArrayLike<number>): wg.Tensor {
  const n = x.shape[0]!;
  const xs = Array.from({ length: n }, (_, i) => new Traced(at[i]!, wg.reshape(wg.slice(x, [i], [1]), [])));
  const fn = new Function('x', '__', rewritten) as (x: V[], h: ReturnType<typeof helpers>) => V[];
  const out = fn(xs, helpers());
  return wg.stack(out.map((r) => (typeof r === 'number' ? wg.full([], r, x.dtype) : r.t)));
}

/**
 * A JavaScript expression (e.g. a NIST StRD model, "b1*(1-Math.exp(-b2*x))") traced with the given
 * names bound to tensors: scalars for parameters, vectors for predictors, so the whole data set
 * is one vectorized expression. The bound values carry no point value (NaN), so the expression
 * must not branch on them (the NIST models do not).
 */
export function traceExpression(expr: string, bindings: Readonly<Record<string, wg.Tensor>>): wg.Tensor {
  const rewritten = rewriteBody(`return (${expr});`);
  const names = Object.keys(bindings);
  const fn = new Function(...names, '__', rewritten) as (...args: unknown[]) => V;
  const out = fn(...names.map((k) => new Traced(Number.NaN, bindings[k]!)), helpers());
  if (typeof out === 'number') throw new Error(`traceExpression: ${expr} does not depend on its bindings`);
  return out.t;
}
