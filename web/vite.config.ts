// One IIFE file (window.spacefold) shipped inside the Python package: the HTML export inlines
// it, the app serves it, so pip users need no Node.
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: "../src/spacefold/server/static",
    emptyOutDir: false,
    minify: true,
    sourcemap: false,
    lib: {
      entry: "src/main.ts",
      name: "spacefold",
      formats: ["iife"],
      fileName: () => "viewer.js",
    },
  },
});
