// `npm run build`: bundle src/graphiql.jsx (+ its CSS) into ../coalhub/static/graphiql/
// as graphiql.js and graphiql.css, minified. Everything is inlined: nothing is loaded
// from a CDN at run time.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(here, '..', 'coalhub', 'static', 'graphiql');

const started = Date.now();
await esbuild.build({
  entryPoints: { graphiql: path.join(here, 'src', 'graphiql.jsx') },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Fonts and icons referenced from CSS are inlined, never fetched.
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl' },
  legalComments: 'eof',
  logLevel: 'warning',
});

for (const name of ['graphiql.js', 'graphiql.css']) {
  const { size } = await stat(path.join(outdir, name));
  console.log(`${path.relative(path.resolve(here, '..'), path.join(outdir, name))}  ${(size / 1024).toFixed(1)} KiB`);
}
console.log(`built in ${Date.now() - started} ms`);
