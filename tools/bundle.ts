// Builds what the image and the package run: src/cli.ts and everything it imports from src/ in one
// CommonJS file, dist/bundle/wsgate.cjs (npm run build runs it after tsc).
//
// Why one file: a process that loads 140 ES modules maps about 10 MiB more than one that loads a
// single CommonJS script (the ES module resolver gets hot enough at start to be JIT-compiled, and
// each module keeps its own records); `wsgate proxy` at rest holds 65 MiB bundled against 75 MiB
// from dist/cli.js (docs/perf-notes.md, "RSS at rest"). Dependencies stay outside, required from
// node_modules as before, so the Kubernetes client, yaml and x509 are still loaded only by the
// commands that use them.
//
// The file sits two directories deep, like every module under src/, so the paths that modules
// resolve against their own location (../../package.json, ../../schema/) still land in the
// package root.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/bundle/wsgate.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  packages: 'external',
  // Not minified: stack traces in the logs keep wsgate's function names and readable lines.
  sourcemap: 'linked',
  // CommonJS has no import.meta; each module's URL becomes the bundle's, which sits at the same depth.
  define: { 'import.meta.url': '__wsgateBundleUrl' },
  banner: { js: "const __wsgateBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
