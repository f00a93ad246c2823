/**
 * Web3 Secret Storage v3 ("keystore v3", the format geth, eth-keyfile and
 * eth-account write): a 32-byte secret encrypted with AES-128-CTR under the
 * first 16 bytes of a scrypt or PBKDF2-HMAC-SHA256 key, authenticated by
 * keccak-256(key[16:32] || ciphertext). Same JSON, same key order, same bytes
 * as eth_keyfile.create_keyfile_json for the same salt, iv and id.
 *
 * Runs anywhere, but scrypt at the wallet's n = 2^18 blocks for 1-2 s and
 * takes 256 MiB: pages call it through `deriveInWorker` (keystoreWorker.ts).
 * A keystore from elsewhere cannot ask for more than MAX_SCRYPT_N /
 * MAX_PBKDF2_ROUNDS, so a hostile file cannot freeze or exhaust the browser.
 */

import { pbkdf2Async } from "@noble/hashes/pbkdf2.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concat, equalBytes, fromHex, toHex, utf8 } from "./bytes";
import { CoreError } from "./errors";

export const STANDARD_SCRYPT_N = 2 ** 18;
export const MAX_SCRYPT_N = 2 ** 20;
export const MAX_PBKDF2_ROUNDS = 10_000_000;
const DKLEN = 32;

export type Kdf = "scrypt" | "pbkdf2";
export type ScryptParams = { dklen: number; n: number; r: number; p: number; salt: string };
export type Pbkdf2Params = { c: number; dklen: number; prf: "hmac-sha256"; salt: string };
export type KdfParams = ScryptParams | Pbkdf2Params;

export interface KeystoreV3 {
  /** The account's checksummed address without 0x; absent for non-Ethereum secrets. */
  address?: string;
  crypto: {
    cipher: "aes-128-ctr";
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: Kdf;
    kdfparams: KdfParams;
    mac: string;
  };
  id: string;
  version: 3;
}

export interface EncryptOptions {
  readonly kdf?: Kdf;
  /** scrypt's n or PBKDF2's rounds (default: the standard scrypt n = 2^18). */
  readonly work?: number;
  /** The account's address (with or without 0x), written as eth-account does. */
  readonly address?: string;
  /** Fixed salt (16 bytes), iv (16 bytes) and id: for golden vectors only. */
  readonly salt?: Uint8Array;
  readonly iv?: Uint8Array;
  readonly id?: string;
  /** Called with 0..1 while the key is derived. */
  readonly onProgress?: (fraction: number) => void;
}

function random(size: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(size));
}

/** A version 4 UUID (RFC 9562) as uuid.UUID(bytes=..., version=4) makes it. */
export function uuid4(bytes: Uint8Array = random(16)): string {
  const b = bytes.slice(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function damaged(what: string): CoreError {
  return new CoreError("keystore_invalid", `the keystore is damaged or not supported: ${what}`);
}

async function derive(
  kdf: Kdf,
  params: KdfParams,
  passphrase: string,
  onProgress?: (f: number) => void,
): Promise<Uint8Array> {
  if (typeof params !== "object" || params === null || params.dklen !== DKLEN) {
    throw damaged("keystores derive 32-byte keys");
  }
  let salt: Uint8Array;
  try {
    salt = fromHex(params.salt);
  } catch {
    throw damaged("the salt is not hex");
  }
  const password = utf8(passphrase);
  if (kdf === "scrypt") {
    const { n, r, p } = params as ScryptParams;
    const sane = [n, r, p].every(Number.isInteger) && r >= 1 && p >= 1 && r * p <= 64;
    if (!sane || n < 2 || n > MAX_SCRYPT_N || (n & (n - 1)) !== 0) {
      throw damaged(`scrypt n=${n} r=${r} p=${p} is outside what a wallet accepts`);
    }
    const maxmem = 128 * r * (n + p + 2) + 1024;
    return scryptAsync(password, salt, {
      N: n,
      r,
      p,
      dkLen: DKLEN,
      maxmem,
      ...(onProgress ? { onProgress } : {}),
    });
  }
  const { c, prf } = params as Pbkdf2Params;
  if (prf !== "hmac-sha256" || !Number.isInteger(c) || c < 1 || c > MAX_PBKDF2_ROUNDS) {
    throw damaged("PBKDF2 keystores use hmac-sha256 with a sane round count");
  }
  return pbkdf2Async(sha256, password, salt, { c, dkLen: DKLEN });
}

/** AES-128-CTR with a 128-bit big-endian counter starting at `iv` (pycryptodome's Counter.new(128)). */
async function aesCtr(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-CTR", false, [
    "encrypt",
  ]);
  const out = await crypto.subtle.encrypt(
    { name: "AES-CTR", counter: new Uint8Array(iv), length: 128 },
    cryptoKey,
    new Uint8Array(data),
  );
  return new Uint8Array(out);
}

function mac(key: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return keccak_256(concat(key.subarray(16, 32), ciphertext));
}

export async function encryptKeystore(
  secret: Uint8Array,
  passphrase: string,
  options: EncryptOptions = {},
): Promise<KeystoreV3> {
  const kdf = options.kdf ?? "scrypt";
  const work = options.work ?? (kdf === "scrypt" ? STANDARD_SCRYPT_N : 1_000_000);
  const salt = toHex(options.salt ?? random(16));
  const kdfparams: KdfParams =
    kdf === "scrypt"
      ? { dklen: DKLEN, n: work, r: 8, p: 1, salt }
      : { c: work, dklen: DKLEN, prf: "hmac-sha256", salt };
  const key = await derive(kdf, kdfparams, passphrase, options.onProgress);
  const iv = options.iv ?? random(16);
  const ciphertext = await aesCtr(key.subarray(0, 16), iv, secret);
  const store: KeystoreV3 = {
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: toHex(iv) },
      ciphertext: toHex(ciphertext),
      kdf,
      kdfparams,
      mac: toHex(mac(key, ciphertext)),
    },
    id: options.id ?? uuid4(),
    version: 3,
  };
  return options.address === undefined
    ? store
    : { address: options.address.replace(/^0x/, ""), ...store };
}

/** The secret of `store`; `wrong_passphrase` when the MAC does not match, `keystore_invalid` when damaged. */
export async function decryptKeystore(
  store: KeystoreV3,
  passphrase: string,
  onProgress?: (fraction: number) => void,
): Promise<Uint8Array> {
  let iv: Uint8Array;
  let ciphertext: Uint8Array;
  let expected: Uint8Array;
  try {
    if (
      store.version !== 3 ||
      store.crypto.cipher !== "aes-128-ctr" ||
      !["scrypt", "pbkdf2"].includes(store.crypto.kdf)
    ) {
      throw new Error("unsupported");
    }
    iv = fromHex(store.crypto.cipherparams.iv);
    ciphertext = fromHex(store.crypto.ciphertext);
    expected = fromHex(store.crypto.mac);
    if (iv.length !== 16) throw new Error("the iv is 16 bytes");
  } catch {
    throw new CoreError(
      "keystore_invalid",
      "not a version 3 keystore (aes-128-ctr with scrypt or pbkdf2)",
    );
  }
  const key = await derive(store.crypto.kdf, store.crypto.kdfparams, passphrase, onProgress);
  if (!equalBytes(mac(key, ciphertext), expected)) {
    throw new CoreError("wrong_passphrase", "wrong passphrase (the keystore's MAC does not match)");
  }
  return aesCtr(key.subarray(0, 16), iv, ciphertext);
}
