/**
 * Starting module workers under the pages' Trusted Types (runs in the browser's
 * main thread). The API serves every page with `require-trusted-types-for
 * 'script'` (kraken_market/web/serving.py), which makes `new Worker(url)` a
 * sink that takes only a TrustedScriptURL; the policy allows exactly one
 * policy, `kraken-worker`, made here, which admits same-origin script URLs
 * only (the bundled workers) and nothing else.
 */

/** The policy name the CSP's `trusted-types` directive allows. */
export const WORKER_POLICY = "kraken-worker";

interface ScriptUrlPolicy {
  createScriptURL(input: string): unknown;
}
interface TrustedTypesFactory {
  createPolicy(name: string, rules: { createScriptURL(input: string): string }): ScriptUrlPolicy;
}

let policy: ScriptUrlPolicy | undefined;

/** `url` as the Worker constructor accepts it on this page: a TrustedScriptURL where Trusted Types exist. */
export function workerScriptUrl(url: URL): string {
  const factory = (globalThis as { trustedTypes?: TrustedTypesFactory }).trustedTypes;
  if (factory === undefined) return url.href;
  policy ??= factory.createPolicy(WORKER_POLICY, {
    createScriptURL(input: string): string {
      const checked = new URL(input, globalThis.location.href);
      if (checked.origin !== globalThis.location.origin) {
        throw new TypeError(`a worker script must come from this origin, not ${checked.origin}`);
      }
      return checked.href;
    },
  });
  // A TrustedScriptURL, typed as the string the DOM's Worker signature names.
  return policy.createScriptURL(url.href) as string;
}

/**
 * `globalThis.Worker` started through the policy. Call it as
 * `new Worker(new URL("./x.worker.ts", import.meta.url), { type: "module" })`
 * with this imported under the name `Worker`: that is the expression Vite
 * recognises to bundle the worker as its own file. (A function, not a subclass:
 * Node, where the tests import this module, has no Worker to extend.)
 */
function startWorker(url: URL, options: WorkerOptions): Worker {
  return new globalThis.Worker(workerScriptUrl(url), options);
}

export const TrustedWorker = startWorker as unknown as new (
  url: URL,
  options: WorkerOptions,
) => Worker;
