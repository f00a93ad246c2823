/**
 * The message protocol of the keystore worker (keystore.worker.ts) and the
 * handler that runs a job; both ends import these types. The handler is plain
 * code: the worker calls it off the main thread, tests call it directly.
 */
import { CoreError } from "./errors";
import { decryptKeystore, type EncryptOptions, encryptKeystore, type KeystoreV3 } from "./keystore";

export type KeystoreJob =
  | { readonly op: "decrypt"; readonly keystore: KeystoreV3; readonly passphrase: string }
  | {
      readonly op: "encrypt";
      readonly secret: Uint8Array;
      readonly passphrase: string;
      readonly options?: Omit<EncryptOptions, "onProgress">;
    };

export type KeystoreRequest = KeystoreJob & { readonly id: number };

export type KeystoreReply =
  | { readonly id: number; readonly kind: "progress"; readonly fraction: number }
  | { readonly id: number; readonly kind: "decrypted"; readonly secret: Uint8Array }
  | { readonly id: number; readonly kind: "encrypted"; readonly keystore: KeystoreV3 }
  | {
      readonly id: number;
      readonly kind: "failed";
      readonly code: string;
      readonly message: string;
    };

/** Runs one job; errors become a `failed` reply with the CoreError's code. */
export async function runKeystoreJob(
  request: KeystoreRequest,
  progress: (fraction: number) => void,
): Promise<KeystoreReply> {
  const { id } = request;
  try {
    if (request.op === "decrypt") {
      const secret = await decryptKeystore(request.keystore, request.passphrase, progress);
      return { id, kind: "decrypted", secret };
    }
    const keystore = await encryptKeystore(request.secret, request.passphrase, {
      ...request.options,
      onProgress: progress,
    });
    return { id, kind: "encrypted", keystore };
  } catch (error) {
    const code = error instanceof CoreError ? error.code : "keystore_failed";
    return {
      id,
      kind: "failed",
      code,
      message: error instanceof Error ? error.message : String(error),
    };
  }
}
