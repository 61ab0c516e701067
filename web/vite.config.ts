/**
 * The web UI's build. `npm run build` writes `web/dist`, which `keel server` serves at `/`.
 * `npm run dev:web` serves it with hot reload and proxies the API to a running `keel server`
 * (KEEL_URL, default http://127.0.0.1:3000).
 */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.KEEL_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The budget that matters is the initial load gzipped (< 300 KB, checked by test/e2e/web).
    chunkSizeWarningLimit: 600,
    reportCompressedSize: true,
  },
  server: {
    proxy: { "/api": { target: api, changeOrigin: false } },
  },
});
