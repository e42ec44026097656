import { defineConfig } from 'vite';

// Output goes to dist/app (git-ignored); dist/placeholder.html stays, so
// emptyOutDir only ever clears the app folder. The Go binary embeds dist/.
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a running `wangge serve` on :8080
    proxy: { '/api': 'http://127.0.0.1:8080', '/tiles': 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['test/unit/**/*.test.js'],
    environment: 'node',
  },
});
