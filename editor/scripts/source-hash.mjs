// The source hash of the editor: what editor/dist was built from. `vite
// build` writes it to dist/.source-sha256; editor/embed_test.go computes it
// again from the sources (the same algorithm, in Go) and fails when they
// differ, so a change to the sources without `make editor` fails `make test`.
//
// The hash covers the inputs listed here (files under the folders, dotfiles
// skipped): for each file in byte order of its path relative to editor/,
// "path NUL sha256(content with CRLF as LF) LF", all hashed with SHA-256.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const inputs = ['index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json', 'scripts', 'src', 'public'];
export const stampFile = '.source-sha256';

export function sourceHash(root) {
  const files = [];
  const walk = (rel) => {
    let st;
    try {
      st = statSync(join(root, rel));
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(join(root, rel))) {
        if (!name.startsWith('.')) walk(`${rel}/${name}`);
      }
    } else if (st.isFile()) {
      files.push(rel);
    }
  };
  inputs.forEach(walk);
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const all = createHash('sha256');
  for (const f of files) {
    const text = readFileSync(join(root, f)).toString('latin1').replaceAll('\r\n', '\n');
    const one = createHash('sha256').update(Buffer.from(text, 'latin1')).digest('hex');
    all.update(`${f}\0${one}\n`);
  }
  return all.digest('hex');
}

export function writeSourceHash(root, outDir) {
  writeFileSync(join(outDir, stampFile), sourceHash(root) + '\n');
}

// node scripts/source-hash.mjs prints the hash.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(sourceHash(join(import.meta.dirname, '..')));
}
