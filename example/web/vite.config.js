// Vite configuration for the example frontend.
//
// Dev runtime (`vite`, in the dev image or on a host): the server listens on
// 0.0.0.0:5173 so the pod's Service can reach it, and proxies /api to the
// gateway exactly like webserve does in the prod runtime, so the app code is
// the same in both. GATEWAY_URL is the gateway's base URL (default: the
// gateway Service of the same namespace).
import { defineConfig } from "vite";

const gateway = process.env.GATEWAY_URL || "http://gateway:80";
// Edits arriving through a shared volume written by another pod are not
// always seen by inotify (network filesystems); polling sees them everywhere.
const usePolling = ["1", "true"].includes((process.env.VITE_USE_POLLING || "").toLowerCase());

export default defineConfig({
  // Where Vite keeps its dependency pre-bundling cache. The dev runtime sets
  // VITE_CACHE_DIR=/tmp/vite: the sources are mounted read-only there, and
  // the default (node_modules/.vite) would need a writable mount.
  cacheDir: process.env.VITE_CACHE_DIR || undefined,
  server: {
    host: "0.0.0.0",
    port: 5173,
    strictPort: true,
    // The dev server is reached through Kubernetes Service names and port
    // forwards, not only "localhost"; Vite rejects unknown Host headers
    // otherwise.
    allowedHosts: true,
    proxy: {
      "/api": { target: gateway, changeOrigin: true },
    },
    watch: usePolling ? { usePolling: true, interval: 100 } : undefined,
  },
  preview: {
    host: "0.0.0.0",
    port: 4173,
    proxy: {
      "/api": { target: gateway, changeOrigin: true },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
  },
});
