/**
 * The user's call site for error messages: the first stack frame outside wengert's own files.
 * Computed only when an error is raised, so tracing pays nothing for it. A traced node's own call
 * site, for errors the engine raises later, is captured only on request (captureSite).
 */

function frameFile(line: string): string | undefined {
  const m = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):\d+:\d+\)?\s*$/.exec(line);
  return m ? m[1] : undefined;
}

function ownDirectory(): string {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    const file = frameFile(line);
    if (file !== undefined) return file.replace(/[\\/][^\\/]*$/, '');
  }
  return '';
}

const OWN_DIR = ownDirectory();

/** `file:line:column` of the innermost frame that is not wengert's, or `unknown location`. */
export function userCallSite(): string {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = saved;
  return firstUserFrame(stack);
}

/** A stack captured by {@link captureSite}: V8 keeps the frames and formats them when `stack` is read. */
export interface CapturedSite {
  readonly stack?: string;
}

/**
 * The current stack, for a call site needed later (a traced node's, named by an engine error).
 * Capturing costs microseconds, far more than recording an op, so tracing does it only when asked
 * (Graph.captureSites); formatting waits until {@link siteText}.
 */
export function captureSite(): CapturedSite {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, captureSite);
  Error.stackTraceLimit = saved;
  return holder;
}

/** `file:line:column` of the innermost frame of `site` that is not wengert's, or `unknown location`. */
export function siteText(site: CapturedSite): string {
  return firstUserFrame(site.stack ?? '');
}

function firstUserFrame(stack: string): string {
  for (const line of stack.split('\n').slice(1)) {
    const file = frameFile(line);
    if (file === undefined || file.startsWith('node:')) continue;
    if (OWN_DIR !== '' && file.startsWith(OWN_DIR)) continue;
    const loc = /((?:file:\/\/)?[^\s()]+:\d+:\d+)\)?\s*$/.exec(line);
    return loc ? loc[1]! : line.trim();
  }
  return 'unknown location';
}

/** The package's root folder (the one with package.json), from this file's location in ts/ or dist/. */
export function packageRoot(): string {
  return OWN_DIR.replace(/^file:\/\//, '').replace(/[\\/][^\\/]*$/, '');
}
