/** Every op, by family. */
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './linalg.js';
export * from './constant.js';
export * from './losses.js';
export { binary, unary } from './core.js';
