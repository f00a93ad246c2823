/**
 * @kraken/core: the TypeScript libraries of the wallet and the marketplace,
 * writing and reading exactly what the Python implementation does (golden
 * vectors both ways: tests/web/golden.py, tests/web/test_typescript.py).
 *
 * This entry point keeps to the light parts a first page needs. The heavy ones
 * are imported by subpath, so only the pages that use them load them:
 * `@kraken/core/keystore`, `@kraken/core/keystoreWorker` (scrypt),
 * `@kraken/core/walletFile`, `@kraken/core/eth`, `@kraken/core/binding`
 * (viem), `@kraken/core/contracts` (viem and the ABIs).
 */
export * from "./amounts";
export * from "./did";
export * from "./errors";
export * from "./jose";
export * from "./presentations";
