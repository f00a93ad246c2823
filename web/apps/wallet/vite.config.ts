import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into web/dist/wallet and served by the API at /wallet/ (kraken_market.web.serving).
// No inline script or style is emitted: the pages run under a strict
// Content-Security-Policy (script-src 'self').
export default defineConfig({
  base: "/wallet/",
  plugins: [react()],
  build: {
    outDir: "../../dist/wallet",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
