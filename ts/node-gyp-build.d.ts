declare module 'node-gyp-build' {
  /** Load the native addon of the package rooted at `dir`. */
  function load(dir: string): unknown;
  export default load;
}
