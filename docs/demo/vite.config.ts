import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The demo page imports the library from src/ (two levels up); the build is static files with relative
// paths, so dist/demo can be served from any folder.
const root = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root,
  base: './',
  server: { fs: { allow: [fileURLToPath(new URL('../..', import.meta.url))] } },
  build: { outDir: fileURLToPath(new URL('../../dist/demo', import.meta.url)), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
});
