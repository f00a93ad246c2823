/**
 * Compact JWS with Ed25519 (RFC 7515, RFC 8037; alg `Ed25519` per RFC 9864), the
 * same bytes as kraken_market/identity/jose.py. Runs anywhere (browser, worker, Node).
 *
 * Signing writes the header `{"alg":"Ed25519","typ":…,"kid":…}` in that order
 * and the payload as Python's `json.dumps(separators=(",", ":"),
 * ensure_ascii=False)`, which `JSON.stringify` matches for the values tokens
 * carry (strings, integers, booleans, null, arrays, objects; a float such as
 * 1.0 or 1e-7 would be written differently, so payloads keep amounts as strings).
 * Ed25519 is deterministic: the same key and payload give the identical token.
 *
 * Verifying refuses, in the order Python does and with its codes: oversize
 * (`token_too_large`), a shape other than header.payload.signature, an
 * algorithm outside the allow-list (`unsupported_algorithm`: `none`, HMAC…),
 * another `typ`, `crit`, a `kid` that is not a DID URL (`malformed_token`),
 * and a bad signature (`invalid_signature`). Keys come from the `kid`
 * (did:key, no network); did:web needs a `resolveKey` from the caller.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { b64url, fromB64url, fromUtf8, utf8 } from "./bytes";
import { type DidSigner, publicKeyOfKid } from "./did";
import { CoreError } from "./errors";

export const ALGORITHMS: readonly string[] = ["Ed25519", "EdDSA"];
export const SIGNING_ALGORITHM = "Ed25519";

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

export interface JoseHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly [name: string]: unknown;
}

export interface Verified {
  readonly header: JoseHeader;
  readonly payload: JsonObject;
  /** The DID URL whose key verified the signature. */
  readonly kid: string;
  /** The DID of that key (the kid without its fragment). */
  readonly did: string;
}

export interface VerifyOptions {
  readonly maxBytes: number;
  /** The Ed25519 public key a kid names; did:key URLs resolve without it. */
  readonly resolveKey?: (kid: string) => Uint8Array;
}

/** `value` as Python's json.dumps(separators=(",", ":"), ensure_ascii=False) writes it. */
export function pythonJson(value: JsonValue): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "number" && !Number.isFinite(item)) {
      throw new CoreError("malformed_token", "JSON has no NaN or Infinity");
    }
    return item;
  });
}

export function sign(signer: DidSigner, payload: JsonObject, typ: string): string {
  const header = { alg: SIGNING_ALGORITHM, typ, kid: signer.kid };
  const input = `${b64url(utf8(JSON.stringify(header)))}.${b64url(utf8(pythonJson(payload)))}`;
  return `${input}.${b64url(signer.sign(utf8(input)))}`;
}

function part(text: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(fromB64url(text)));
  } catch {
    throw new CoreError("malformed_token", `the ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CoreError("malformed_token", `the ${what} is not a JSON object`);
  }
  return value as JsonObject;
}

/** Header and payload of a compact JWS, unverified: for display only, never for trust. */
export function decode(token: string): { header: JoseHeader; payload: JsonObject } {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[0] || !parts[1]) {
    throw new CoreError("malformed_token", "expected a compact JWS: header.payload.signature");
  }
  const header = part(parts[0], "JOSE header");
  if (typeof header.alg !== "string") throw new CoreError("malformed_token", "no alg header");
  return { header: header as JoseHeader, payload: part(parts[1], "payload") };
}

export function verify(token: string, typ: string, options: VerifyOptions): Verified {
  if (token.length > options.maxBytes) {
    throw new CoreError(
      "token_too_large",
      `tokens are limited to ${options.maxBytes} bytes; this one has ${token.length}`,
      { limit: options.maxBytes },
    );
  }
  const parts = token.split(".");
  const [head = "", body = "", signature = ""] = parts;
  if (parts.length !== 3 || !head || !body) {
    throw new CoreError("malformed_token", "expected a compact JWS: header.payload.signature");
  }
  const header = part(head, "JOSE header");
  const alg = header.alg;
  if (typeof alg !== "string" || !ALGORITHMS.includes(alg)) {
    throw new CoreError(
      "unsupported_algorithm",
      `algorithm ${String(alg)} is not accepted; sign with Ed25519`,
      {
        alg: typeof alg === "string" ? alg : null,
      },
    );
  }
  if (header.typ !== typ) {
    throw new CoreError(
      "malformed_token",
      `expected a ${typ} token, got typ ${String(header.typ)}`,
    );
  }
  if ("crit" in header) {
    throw new CoreError("malformed_token", "no critical header extensions are understood");
  }
  const kid = header.kid;
  if (typeof kid !== "string" || !kid.startsWith("did:")) {
    throw new CoreError(
      "malformed_token",
      "the JOSE header needs a kid naming the signer's DID URL",
    );
  }
  const key = options.resolveKey ? options.resolveKey(kid) : publicKeyOfKid(kid);
  let valid = false;
  try {
    // zip215: false is RFC 8032's strict verification, as Python's `cryptography` does.
    valid = ed25519.verify(fromB64url(signature), utf8(`${head}.${body}`), key, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) throw new CoreError("invalid_signature", `the signature does not verify with ${kid}`);
  const payload = part(body, "payload");
  return { header: header as JoseHeader, payload, kid, did: kid.split("#")[0] ?? kid };
}
