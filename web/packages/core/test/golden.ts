/**
 * Test helpers (run in Node under Vitest): the golden vectors the Python
 * implementation wrote (tests/web/golden.py), and the artifacts these tests
 * write for Python to verify when KRAKEN_GOLDEN_OUT names a directory
 * (tests/web/test_typescript.py).
 */
/// <reference types="node" />
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

export function golden<T>(name: string): T {
  return JSON.parse(readFileSync(join(here, "golden", name), "utf8")) as T;
}

export function hexBytes(hex: string): Uint8Array {
  const digits = hex.startsWith("0x") ? hex.slice(2) : hex;
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** Writes `value` as KRAKEN_GOLDEN_OUT/<name>.json for the Python side; a no-op without it. */
export function artifact(name: string, value: unknown): void {
  const out = process.env.KRAKEN_GOLDEN_OUT;
  if (!out) return;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}.json`), JSON.stringify(value, null, 1));
}

export function repoFile(path: string): string {
  return readFileSync(join(here, "../../../..", path), "utf8");
}
