import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into web/dist/marketplace and served by the API at / (kraken_market.web.serving).
// No inline script or style is emitted: the pages run under a strict
// Content-Security-Policy (script-src 'self').
export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "../../dist/marketplace",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
