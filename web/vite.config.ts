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
    chunkSizeWarningLimit: 400,
    reportCompressedSize: true,
  },
  server: {
    proxy: { "/api": { target: api, changeOrigin: false } },
  },
});
