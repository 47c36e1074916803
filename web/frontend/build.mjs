// Bundles the owner's workbench editor (bpmn-js Modeler + properties panel + dmn-js + CodeMirror)
// and the CSS those packages need into web/static/build/. Run by scripts/install; never from a CDN.
//   node web/frontend/build.mjs [--dev]
import { build } from 'esbuild';
import { mkdirSync, rmSync, renameSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(root, 'web', 'static', 'build');
const tmp = `${out}.tmp`;
const dev = process.argv.includes('--dev');

rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
await build({
  entryPoints: { editor: join(here, 'src', 'editor.js'), 'editor-styles': join(here, 'src', 'editor.css') },
  bundle: true,
  outdir: tmp,
  format: 'iife',
  target: ['es2020'],
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'linked',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'assets/[name]-[hash]',
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
  logLevel: 'warning',
});
if (existsSync(out)) rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
