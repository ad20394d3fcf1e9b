import { defineConfig } from 'vite';

// The package as one browser ES module (npm run build:browser): proves nothing Node-only is statically
// imported (Dawn and node:fs are dynamic imports behind the device and file entry points) and measures
// the bundle size.
export default defineConfig({
  build: {
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'c2al' },
    outDir: 'dist/browser',
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    rollupOptions: { external: [/^node:/, 'webgpu'] },
  },
});
