import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { writeSourceHash } from './scripts/source-hash.mjs';

const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = resolve(root, 'dist');
// The server `npm run dev` talks to (make run serves on 8080).
const backend = process.env.SWITCHBOARD_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/console/',
  plugins: [
    react(),
    (() => {
      // Records which sources the bundle was built from (see scripts/source-hash.mjs).
      let out = outDir;
      return {
        name: 'switchboard-source-hash',
        apply: 'build' as const,
        configResolved(c: { build: { outDir: string } }) {
          out = resolve(root, c.build.outDir);
        },
        closeBundle() {
          writeSourceHash(root, out);
        },
      };
    })(),
  ],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One small app: no warning noise about a React-sized chunk.
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      '/api': backend,
      '/webchat': backend,
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
});
