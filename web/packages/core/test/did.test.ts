import { describe, expect, it } from "vitest";
import { toHex } from "../src/bytes";
import {
  didKeyFromSeed,
  didOfPublicKey,
  newDidSeed,
  publicKeyOfDid,
  publicKeyOfKid,
} from "../src/did";
import { CoreError } from "../src/errors";
import { golden, hexBytes } from "./golden";

interface Vectors {
  keys: { seed: string; public_key: string; did: string; kid: string }[];
  refused: { did: string; error?: string; result?: string }[];
}
const vectors = golden<Vectors>("did.json");

describe("did:key", () => {
  it.each(vectors.keys)("is Python's for seed $seed", (v) => {
    const key = didKeyFromSeed(hexBytes(v.seed));
    expect(toHex(key.publicKey)).toBe(v.public_key);
    expect(key.did).toBe(v.did);
    expect(key.kid).toBe(v.kid);
    expect(didOfPublicKey(hexBytes(v.public_key))).toBe(v.did);
    expect(toHex(publicKeyOfDid(v.did))).toBe(v.public_key);
    expect(toHex(publicKeyOfKid(v.kid))).toBe(v.public_key);
  });

  it.each(vectors.refused)("refuses $did as Python does", (v) => {
    expect(v.error).toBeDefined();
    expect(() => publicKeyOfDid(v.did)).toThrowError(expect.objectContaining({ code: v.error }));
  });

  it("refuses a kid naming another key of the DID", () => {
    const { did } = didKeyFromSeed(hexBytes(vectors.keys[1]?.seed ?? ""));
    expect(() => publicKeyOfKid(`${did}#other`)).toThrow(CoreError);
  });

  it("draws seeds that make distinct keys", () => {
    expect(didKeyFromSeed(newDidSeed()).did).not.toBe(didKeyFromSeed(newDidSeed()).did);
  });
});
