/**
 * The CLI wallet's file (kraken_market/identity/wallet.py), read and written
 * byte for byte: `kind: "kraken-market-wallet"`, `version: 1`, the DID and the
 * address in clear, the DID key's 32-byte Ed25519 seed and the account's
 * secp256k1 key each in a keystore v3 (scrypt; the seed's without `address`),
 * `created_at`, and the credentials as StoredCredential objects. The text is
 * Python's `json.dumps(indent=1)` (ASCII escapes) plus a newline, so a wallet
 * made here opens with `Wallet.open(path).unlock(passphrase)` and vice versa.
 *
 * Runs anywhere; key derivation goes through the injected `encrypt`/`decrypt`
 * (the apps pass `deriveInWorker`, tests the direct functions).
 */
import { type DidSigner, didKeyFromSeed, newDidSeed } from "./did";
import { CoreError } from "./errors";
import { accountFromKey, type PrivateKeyAccount } from "./eth";
import {
  decryptKeystore,
  type EncryptOptions,
  encryptKeystore,
  type KeystoreV3,
  STANDARD_SCRYPT_N,
} from "./keystore";
import {
  present,
  type StoredCredential,
  subjectOf,
  timestamp,
  verifyCredential,
} from "./presentations";

export const WALLET_KIND = "kraken-market-wallet";
export const WALLET_VERSION = 1;
export const MIN_PASSPHRASE = 8;

export interface WalletDocument {
  readonly kind: typeof WALLET_KIND;
  readonly version: typeof WALLET_VERSION;
  readonly did: string;
  readonly address: string;
  readonly did_key: KeystoreV3;
  readonly account: KeystoreV3;
  readonly created_at: string;
  readonly credentials: readonly StoredCredential[];
}

export interface WalletKeys {
  readonly didKey: DidSigner;
  readonly account: PrivateKeyAccount;
}

export type Encrypt = (
  secret: Uint8Array,
  passphrase: string,
  options: EncryptOptions,
) => Promise<KeystoreV3>;
export type Decrypt = (keystore: KeystoreV3, passphrase: string) => Promise<Uint8Array>;

export interface CreateOptions {
  /** The account's private key; a new one by default. */
  readonly accountKey?: Uint8Array | string;
  /** The DID key's seed; a new one by default. */
  readonly didSeed?: Uint8Array;
  /** scrypt n (default 2^18, the wallet's). */
  readonly work?: number;
  readonly now?: Date;
  readonly encrypt?: Encrypt;
  /** Fixed salt/iv/id of the two keystores: for golden vectors only. */
  readonly didKeyOptions?: EncryptOptions;
  readonly accountOptions?: EncryptOptions;
}

function invalid(message: string): CoreError {
  return new CoreError("wallet_invalid", message);
}

export async function createWallet(
  passphrase: string,
  options: CreateOptions = {},
): Promise<WalletDocument> {
  if (Array.from(passphrase).length < MIN_PASSPHRASE) {
    throw new CoreError(
      "weak_passphrase",
      `a wallet passphrase has at least ${MIN_PASSPHRASE} characters`,
    );
  }
  const encrypt = options.encrypt ?? encryptKeystore;
  let account: PrivateKeyAccount;
  let accountKey: Uint8Array;
  try {
    accountKey = toBytes(options.accountKey ?? crypto.getRandomValues(new Uint8Array(32)));
    account = accountFromKey(accountKey);
  } catch {
    throw invalid("the Ethereum private key is not 32 bytes of hex");
  }
  const seed = options.didSeed ?? newDidSeed();
  const didKey = didKeyFromSeed(seed);
  const work = options.work ?? STANDARD_SCRYPT_N;
  const didStore = await encrypt(seed, passphrase, {
    ...options.didKeyOptions,
    kdf: "scrypt",
    work,
  });
  const accountStore = await encrypt(accountKey, passphrase, {
    ...options.accountOptions,
    kdf: "scrypt",
    work,
    address: account.address,
  });
  return {
    kind: WALLET_KIND,
    version: WALLET_VERSION,
    did: didKey.did,
    address: account.address,
    did_key: didStore,
    account: accountStore,
    created_at: timestamp(options.now ?? new Date()),
    credentials: [],
  };
}

function toBytes(key: Uint8Array | string): Uint8Array {
  if (typeof key !== "string") return key;
  const hex = key.startsWith("0x") ? key.slice(2) : key;
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw invalid("the Ethereum private key is not 32 bytes of hex");
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

/** The file's text, as Python's json.dumps(document, indent=1) + "\n" writes it. */
export function serializeWallet(document: WalletDocument): string {
  const text = JSON.stringify(document, null, 1);
  // ensure_ascii: everything outside printable ASCII as \uXXXX (UTF-16 units, lowercase hex)
  return `${text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}\n`;
}

const FIELDS = {
  did: "string",
  address: "string",
  did_key: "object",
  account: "object",
  credentials: "array",
} as const;

/** A wallet file's document, checked as Wallet.open checks it (no passphrase needed). */
export function parseWallet(text: string): WalletDocument {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid("the wallet file is not JSON");
  }
  const record = data as Record<string, unknown>;
  if (
    typeof data !== "object" ||
    data === null ||
    record.kind !== WALLET_KIND ||
    record.version !== WALLET_VERSION
  ) {
    throw invalid(`not a version ${WALLET_VERSION} Kraken Market wallet`);
  }
  for (const [name, kind] of Object.entries(FIELDS)) {
    const value = record[name];
    const ok =
      kind === "array"
        ? Array.isArray(value)
        : typeof value === kind && value !== null && !Array.isArray(value);
    if (!ok) throw invalid(`the wallet has no valid '${name}'`);
  }
  return data as WalletDocument;
}

/** Both keys, decrypted (scrypt: about a second each, by design) and checked against the clear DID and address. */
export async function unlockWallet(
  document: WalletDocument,
  passphrase: string,
  decrypt: Decrypt = decryptKeystore,
): Promise<WalletKeys> {
  let seed: Uint8Array;
  let key: Uint8Array;
  try {
    seed = await decrypt(document.did_key, passphrase);
    key = await decrypt(document.account, passphrase);
  } catch (error) {
    if (error instanceof CoreError && error.code === "wrong_passphrase") {
      throw new CoreError("wrong_passphrase", "wrong passphrase for the wallet");
    }
    throw invalid(`a keystore in the wallet is damaged (${(error as Error).message})`);
  }
  const keys = { didKey: didKeyFromSeed(seed), account: accountFromKey(key) };
  if (keys.didKey.did !== document.did || keys.account.address !== document.address) {
    throw invalid("the wallet's keys do not match its DID or address (tampered?)");
  }
  return keys;
}

/**
 * The wallet with one more credential: its signature, issuer and validity are
 * checked and it must be about this wallet's DID (as Wallet.add_credential).
 */
export function addCredential(
  document: WalletDocument,
  token: string,
  now: Date = new Date(),
): WalletDocument {
  const checked = verifyCredential(token.trim(), now);
  const subject = subjectOf(checked.token);
  if (subject !== document.did) {
    throw new CoreError(
      "credential_not_for_wallet",
      `this ${checked.type} is about ${String(subject)}, not this wallet's DID`,
      {
        subject,
        wallet: document.did,
      },
    );
  }
  if (document.credentials.some((c) => c.id === checked.id)) {
    throw new CoreError("credential_duplicate", `the wallet holds ${checked.id} already`);
  }
  return { ...document, credentials: [...document.credentials, checked] };
}

export interface WalletPresentOptions {
  readonly audience: string;
  readonly nonce: string;
  /** Credential types to present; all unexpired ones by default. */
  readonly types?: readonly string[];
  readonly now?: Date;
}

/** A vp+jwt of the wallet's unexpired credentials (of `types`), as Wallet.present. */
export function presentFromWallet(
  document: WalletDocument,
  keys: WalletKeys,
  options: WalletPresentOptions,
): string {
  const now = options.now ?? new Date();
  const types = options.types ?? [];
  const chosen = document.credentials
    .filter((c) => c.valid_until === null || new Date(c.valid_until) > now)
    .filter((c) => types.length === 0 || types.includes(c.type))
    .map((c) => c.token);
  if (chosen.length === 0) {
    throw new CoreError(
      "nothing_to_present",
      `the wallet holds no unexpired credential of ${types.length ? types.join(", ") : "any type"}`,
    );
  }
  if (chosen.length > 10) {
    throw new CoreError(
      "nothing_to_present",
      "a presentation carries at most 10 credentials; choose types",
    );
  }
  return present(keys.didKey, chosen, { audience: options.audience, nonce: options.nonce, now });
}
