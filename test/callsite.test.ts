// Call sites of traced nodes, captured on request (Graph.captureSites) for errors the engine raises
// after tracing. Lines are located by marker comments in this file's own text.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { Graph, withGraph } from '../ts/graph.js';
import { Tensor } from '../ts/tensor.js';

const SOURCE_LINES = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
function line(name: string): RegExp {
  const hits = SOURCE_LINES.flatMap((text, i) => (text.includes(`/* site:${name} */`) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker site:${name} found ${hits.length} times`);
  return new RegExp(`callsite\\.test\\.ts:${hits[0]}:\\d+$`);
}

function traced(capture: boolean): { graph: Graph; x: Tensor; y: Tensor; z: Tensor } {
  const graph = new Graph([wg.f64([3])]);
  graph.captureSites = capture;
  const x = new Tensor(graph.add('input', [], [3], 'float64', [0]), graph);
  return withGraph(graph, () => {
    const y = wg.mul(x, 2); /* site:mul */
    const z = wg.sum(wg.exp(y)); /* site:sum */
    return { graph, x, y, z };
  });
}

describe('traced call sites', () => {
  it('name the user line that recorded each node, for nodes made inside wengert too', () => {
    const { graph, y, z } = traced(true);
    expect(graph.siteOf(y.node)).toMatch(line('mul'));
    // the scalar constant 2 was recorded by wg.mul on the same line
    expect(graph.siteOf(y.node.in1!)).toMatch(line('mul'));
    expect(graph.siteOf(z.node)).toMatch(line('sum'));
    expect(graph.siteOf(z.node.in0!)).toMatch(line('sum'));
  });

  it('are not captured unless asked, nor given for a node of another graph', () => {
    const { graph, y } = traced(false);
    expect(graph.siteOf(y.node)).toBeUndefined();
    const other = traced(true);
    expect(other.graph.siteOf(y.node)).toBeUndefined();
  });

  it('number nodes the same way when the function is traced again', () => {
    const a = traced(false);
    const b = traced(true);
    expect(b.graph.nodes.map((n) => n.op)).toEqual(a.graph.nodes.map((n) => n.op));
    expect(b.graph.siteOf(b.graph.nodes[a.y.node.id]!)).toMatch(line('mul'));
  });
});
