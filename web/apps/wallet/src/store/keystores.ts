/**
 * The wallet's key derivations run in the keystore worker (@kraken/core
 * keystoreWorker, started under the `kraken-worker` Trusted Types policy): scrypt with
 * n = 2^18 takes seconds and would freeze the page on the main thread. Runs in the
 * browser's main thread; reports progress over both keystores of a wallet.
 */
import { didKeyFromSeed, newDidSeed } from "@kraken/core";
import { accountFromKey } from "@kraken/core/eth";
import { deriveInWorker } from "@kraken/core/keystoreWorker";
import {
  createWallet,
  type Decrypt,
  type Encrypt,
  unlockWallet,
  type WalletDocument,
  type WalletKeys,
} from "@kraken/core/walletFile";

export type Progress = (fraction: number) => void;

/** Two keystores per wallet: the first fills the bar's first half, the second the rest. */
function halves(onProgress: Progress): () => Progress {
  let index = 0;
  return () => {
    const start = index++ / 2;
    return (fraction) => onProgress(Math.min(1, start + fraction / 2));
  };
}

/** A new wallet: a fresh did:key seed and Ethereum key from the browser's CSPRNG,
 * encrypted as the CLI's wallet.json; the keys stay in memory, unlocked. */
export async function newWallet(
  passphrase: string,
  onProgress: Progress,
): Promise<{ document: WalletDocument; keys: WalletKeys }> {
  const next = halves(onProgress);
  const encrypt: Encrypt = (secret, phrase, { onProgress: _ignored, ...options }) =>
    deriveInWorker({ op: "encrypt", secret, passphrase: phrase, options }, { onProgress: next() });
  const didSeed = newDidSeed();
  const accountKey = crypto.getRandomValues(new Uint8Array(32));
  try {
    const document = await createWallet(passphrase, { encrypt, didSeed, accountKey });
    return {
      document,
      keys: { didKey: didKeyFromSeed(didSeed), account: accountFromKey(accountKey) },
    };
  } finally {
    didSeed.fill(0);
    accountKey.fill(0);
  }
}

export async function openWallet(
  document: WalletDocument,
  passphrase: string,
  onProgress: Progress,
): Promise<WalletKeys> {
  const next = halves(onProgress);
  const secrets: Uint8Array[] = [];
  const decrypt: Decrypt = async (keystore, phrase) => {
    const secret = await deriveInWorker(
      { op: "decrypt", keystore, passphrase: phrase },
      { onProgress: next() },
    );
    secrets.push(secret);
    return secret;
  };
  try {
    return await unlockWallet(document, passphrase, decrypt);
  } finally {
    // The signers keep their own copies; the raw secrets are not left lying around.
    for (const secret of secrets) secret.fill(0);
  }
}
