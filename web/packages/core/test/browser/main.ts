/**
 * Runs in the browser (tests/web/test_core_browser.py builds this page with Vite
 * and serves it with the API's Content-Security-Policy): decrypts Python's golden
 * keystore in the keystore worker, started through the Trusted Types policy.
 */
import { didKeyFromSeed } from "../../src/did";
import type { KeystoreV3 } from "../../src/keystore";
import { deriveInWorker } from "../../src/keystoreWorker";
import vectors from "../golden/keystores.json";

const out = document.getElementById("out") as HTMLElement;
const seed = vectors.cases.find((c) => c.name === "scrypt seed");
const started = performance.now();
if (seed === undefined) {
  out.textContent = "failed: no vector";
} else {
  deriveInWorker({
    op: "decrypt",
    keystore: seed.keystore as KeystoreV3,
    passphrase: seed.passphrase,
  })
    .then((secret) => {
      const hex = Array.from(secret, (b) => b.toString(16).padStart(2, "0")).join("");
      const ms = Math.round(performance.now() - started);
      out.textContent =
        hex === seed.secret ? `ok ${didKeyFromSeed(secret).did} ${ms}ms` : "failed: wrong secret";
    })
    .catch((error: Error) => {
      out.textContent = `failed: ${error.message}`;
    });
}
