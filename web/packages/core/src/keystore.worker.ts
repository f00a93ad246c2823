/**
 * Runs in a module Web Worker: keystore key derivation (scrypt n = 2^18 takes
 * 1-2 s) off the page's main thread. Started by `keystoreWorker()`; speaks the
 * protocol of keystoreJobs.ts.
 */
/// <reference lib="webworker" />
import { type KeystoreRequest, runKeystoreJob } from "./keystoreJobs";

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.addEventListener("message", (event: MessageEvent<KeystoreRequest>) => {
  const request = event.data;
  let last = 0;
  void runKeystoreJob(request, (fraction) => {
    if (fraction - last >= 0.02 || fraction === 1) {
      last = fraction;
      scope.postMessage({ id: request.id, kind: "progress", fraction });
    }
  }).then((reply) => scope.postMessage(reply));
});
