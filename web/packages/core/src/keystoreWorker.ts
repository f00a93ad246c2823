/**
 * The page's side of the keystore worker (runs in the browser's main thread):
 * `deriveInWorker` posts one keystore job and resolves with its result.
 */
import { CoreError } from "./errors";
import type { KeystoreV3 } from "./keystore";
import type { KeystoreJob, KeystoreReply, KeystoreRequest } from "./keystoreJobs";
import { TrustedWorker as Worker } from "./trustedWorker";

export type { KeystoreJob, KeystoreReply, KeystoreRequest } from "./keystoreJobs";

/** What `deriveInWorker` needs of a worker (a `Worker` has it; tests may pass another port). */
export interface KeystorePort {
  postMessage(request: KeystoreRequest): void;
  addEventListener(type: "message", listener: (event: MessageEvent<KeystoreReply>) => void): void;
  removeEventListener(
    type: "message",
    listener: (event: MessageEvent<KeystoreReply>) => void,
  ): void;
}

/**
 * A new module worker running keystore.worker.ts (Vite bundles it as its own
 * file; `Worker` here is TrustedWorker, which passes the pages' Trusted Types).
 */
export function keystoreWorker(): Worker {
  return new Worker(new URL("./keystore.worker.ts", import.meta.url), {
    type: "module",
    name: "keystore",
  });
}

let nextId = 1;

export interface DeriveOptions {
  /** A worker to reuse; by default one is started for this job and stopped after it. */
  readonly port?: KeystorePort;
  readonly onProgress?: (fraction: number) => void;
}

export function deriveInWorker(
  job: KeystoreJob & { op: "decrypt" },
  options?: DeriveOptions,
): Promise<Uint8Array>;
export function deriveInWorker(
  job: KeystoreJob & { op: "encrypt" },
  options?: DeriveOptions,
): Promise<KeystoreV3>;
export function deriveInWorker(
  job: KeystoreJob,
  options: DeriveOptions = {},
): Promise<Uint8Array | KeystoreV3> {
  const own = options.port === undefined ? keystoreWorker() : undefined;
  const port: KeystorePort = options.port ?? (own as Worker);
  const id = nextId++;
  return new Promise<Uint8Array | KeystoreV3>((resolve, reject) => {
    const listener = (event: MessageEvent<KeystoreReply>): void => {
      const reply = event.data;
      if (reply.id !== id) return;
      if (reply.kind === "progress") {
        options.onProgress?.(reply.fraction);
        return;
      }
      port.removeEventListener("message", listener);
      own?.terminate();
      if (reply.kind === "decrypted") resolve(reply.secret);
      else if (reply.kind === "encrypted") resolve(reply.keystore);
      else reject(new CoreError(reply.code, reply.message));
    };
    port.addEventListener("message", listener);
    own?.addEventListener("error", (event) => {
      own.terminate();
      reject(new CoreError("keystore_failed", `the keystore worker failed: ${event.message}`));
    });
    port.postMessage({ ...job, id });
  });
}
