import { describe, expect, it } from "vitest";
import { didKeyFromSeed } from "../src/did";
import { decode, type JsonObject, sign, verify } from "../src/jose";
import {
  describeCredential,
  present,
  type StoredCredential,
  VP_TYP,
  verifyCredential,
} from "../src/presentations";
import { artifact, golden, hexBytes } from "./golden";

interface JoseVectors {
  signed: { seed: string; typ: string; payload: JsonObject; token: string }[];
  verify: {
    name: string;
    token: string;
    typ: string;
    max_bytes: number;
    result?: JsonObject;
    error?: string;
  }[];
  credentials: StoredCredential[];
}
interface PresentationVectors {
  cases: {
    holder_seed: string;
    credentials: string[];
    audience: string;
    nonce: string;
    now: number;
    lifetime_seconds: number;
    token: string;
  }[];
}
const jose = golden<JoseVectors>("jose.json");
const presentations = golden<PresentationVectors>("presentations.json");

describe("compact JWS", () => {
  it.each(jose.signed)("signs byte-identically to Python ($token)", (v) => {
    expect(sign(didKeyFromSeed(hexBytes(v.seed)), v.payload, v.typ)).toBe(v.token);
    expect(verify(v.token, v.typ, { maxBytes: 4096 }).payload).toEqual(v.payload);
  });

  it.each(jose.verify)("verifies '$name' as Python does", (v) => {
    if (v.error) {
      expect(() => verify(v.token, v.typ, { maxBytes: v.max_bytes })).toThrowError(
        expect.objectContaining({ code: v.error }),
      );
    } else {
      expect(verify(v.token, v.typ, { maxBytes: v.max_bytes }).payload).toEqual(v.result);
    }
  });
});

describe("credentials and presentations", () => {
  const now = new Date((presentations.cases[0]?.now ?? 0) * 1000);

  it.each(jose.credentials)("shows a credential as the CLI wallet stores it", (stored) => {
    expect(describeCredential(stored.token)).toEqual(stored);
    expect(verifyCredential(stored.token, now)).toEqual(stored);
  });

  it("refuses an expired or not yet valid credential", () => {
    const token = jose.credentials[0]?.token ?? "";
    const day = 86_400_000;
    expect(() => verifyCredential(token, new Date(now.getTime() + 40 * day))).toThrowError(
      expect.objectContaining({ code: "credential_expired" }),
    );
    expect(() => verifyCredential(token, new Date(now.getTime() - 5 * day))).toThrowError(
      expect.objectContaining({ code: "credential_not_yet_valid" }),
    );
  });

  it.each(presentations.cases)("presents byte-identically to Python (nonce $nonce)", (v) => {
    const holder = didKeyFromSeed(hexBytes(v.holder_seed));
    const token = present(holder, v.credentials, {
      audience: v.audience,
      nonce: v.nonce,
      now: new Date(v.now * 1000 + 999),
      lifetimeSeconds: v.lifetime_seconds,
    });
    expect(token).toBe(v.token);
    expect(decode(token).header.typ).toBe(VP_TYP);
  });

  it("writes a presentation for Python to open", () => {
    const v = presentations.cases[0];
    if (!v) throw new Error("no presentation vector");
    const holder = didKeyFromSeed(hexBytes("11".repeat(32)));
    const now = new Date();
    const nonce = "ts-made ✓";
    const token = present(holder, v.credentials, { audience: v.audience, nonce, now });
    artifact("presentation", {
      token,
      holder: holder.did,
      audience: v.audience,
      nonce,
      now: Math.floor(now.getTime() / 1000),
      credentials: v.credentials,
    });
    expect(verify(token, VP_TYP, { maxBytes: 65_536 }).payload.holder).toBe(holder.did);
  });
});
