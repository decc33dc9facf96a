/**
 * Builds the operator console into `dist/console/`: one minified ES module, one stylesheet, the
 * page and its icon. Run by `npm run build`; the server serves whatever this writes.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = here('../dist/console/');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { console: here('src/main.ts'), 'console-style': here('style.css') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(here('index.html'), `${out}index.html`);
await copyFile(here('favicon.svg'), `${out}favicon.svg`);
