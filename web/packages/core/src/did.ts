/**
 * did:key with Ed25519 (did:key Method v0.7, W3C CCG; RFC 8032), exactly as
 * kraken_market/identity/dids.py and keys.py: the method-specific id is
 * multibase base58btc (`z`) of the multicodec `ed25519-pub` prefix (varint
 * 0xed, i.e. bytes 0xed 0x01) and the 32-byte public key; the key's `kid` is
 * `did:key:z…#z…`. Runs anywhere (browser, worker, Node).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { base58 } from "@scure/base";
import { concat } from "./bytes";
import { CoreError } from "./errors";

const ED25519_PUB = Uint8Array.of(0xed, 0x01);
const MAX_DID_LENGTH = 2048;
// W3C DID Core 1.0 §3.1, the same expression as dids.py's check_did.
const DID =
  /^did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})$/;

/** A holder's Ed25519 key with the did:key it controls; `sign` is RFC 8032 (deterministic). */
export interface DidSigner {
  readonly did: string;
  readonly kid: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function checkDid(did: string): string {
  if (did.length > MAX_DID_LENGTH || !DID.test(did)) {
    throw new CoreError(
      "invalid_did",
      "not a DID: expected 'did:<method>:<id>' (e.g. did:key:z6Mk...)",
      { did: did.slice(0, 80) },
    );
  }
  return did;
}

/** The did:key of a raw 32-byte Ed25519 public key. */
export function didOfPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32)
    throw new CoreError("invalid_did", "an Ed25519 public key is 32 bytes");
  return `did:key:z${base58.encode(concat(ED25519_PUB, publicKey))}`;
}

/** The verification method id did:key defines: the DID, `#`, its method-specific id. */
export function kidOfDid(did: string): string {
  return `${did}#${did.slice("did:key:".length)}`;
}

/** The raw Ed25519 public key a did:key encodes (no network). */
export function publicKeyOfDid(did: string): Uint8Array {
  checkDid(did);
  if (!did.startsWith("did:key:z")) {
    throw new CoreError("invalid_did", "a did:key is 'did:key:z' + base58btc multicodec key", {
      did,
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(did.slice("did:key:z".length));
  } catch {
    throw new CoreError("invalid_did", `${did}: the key is not valid multibase/multicodec`);
  }
  if (bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1] || bytes.length !== 34) {
    throw new CoreError("invalid_did", `${did}: only Ed25519 keys are supported`);
  }
  return bytes.slice(2);
}

/** The key a JOSE `kid` names: a did:key URL (`did#fragment` or the bare DID). */
export function publicKeyOfKid(kid: string): Uint8Array {
  const hash = kid.indexOf("#");
  const did = hash < 0 ? kid : kid.slice(0, hash);
  const key = publicKeyOfDid(did);
  if (hash >= 0 && hash < kid.length - 1 && kid !== kidOfDid(did)) {
    throw new CoreError("invalid_did", `${did} has no verification method '${kid}'`, { kid });
  }
  return key;
}

/** The signer of a 32-byte RFC 8032 seed (what a wallet keeps, encrypted). */
export function didKeyFromSeed(seed: Uint8Array): DidSigner {
  if (seed.length !== 32) throw new CoreError("invalid_did", "an Ed25519 seed is 32 bytes");
  const secret = seed.slice();
  const publicKey = ed25519.getPublicKey(secret);
  const did = didOfPublicKey(publicKey);
  return {
    did,
    kid: kidOfDid(did),
    publicKey,
    sign: (message) => ed25519.sign(message, secret),
  };
}

/** A fresh random seed (a new wallet's DID key), from the platform's CSPRNG.
 *
 * Keystore v3 refuses secrets at or above the secp256k1 group order; like
 * identity/wallet.py's `_new_did_key`, a seed at or above 2^256 - 2^129 (odds
 * about 2^-127) is drawn again. */
export function newDidSeed(): Uint8Array {
  const bound = 2n ** 256n - 2n ** 129n;
  for (;;) {
    const seed = ed25519.utils.randomSecretKey();
    const value = BigInt(`0x${Array.from(seed, (b) => b.toString(16).padStart(2, "0")).join("")}`);
    if (value > 0n && value < bound) return seed;
  }
}
