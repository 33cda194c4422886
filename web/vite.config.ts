import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

// Built into web/dist, which the homeserver serves at `/` (DESIGN.md "Web client").
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"],
  },
});
