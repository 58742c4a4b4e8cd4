import { afterAll } from 'vitest';
import type { Program } from '../../ts/index.js';

/** Returns `track(p)`, which keeps `p` to be disposed after the calling file's tests. */
export function trackPrograms(): (p: Program) => Program {
  const programs: Program[] = [];
  afterAll(() => {
    for (const p of programs) p.dispose();
  });
  return (p) => {
    programs.push(p);
    return p;
  };
}
