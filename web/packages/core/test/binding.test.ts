import { describe, expect, it } from "vitest";
import { BINDING_TYP, bind, bindingRequest } from "../src/binding";
import { didKeyFromSeed } from "../src/did";
import { accountFromKey } from "../src/eth";
import { decode } from "../src/jose";
import { artifact, golden, hexBytes } from "./golden";

interface Case {
  did_seed: string;
  account_key: string;
  audience: string;
  now: number;
  service: string | null;
  did: string;
  account: string;
  jws: string;
  account_signature: string;
}
const { cases } = golden<{ cases: Case[] }>("bindings.json");

describe("DID-account binding", () => {
  it.each(cases)("is byte-identical to binding.bind (service $service)", async (c) => {
    const made = await bind(didKeyFromSeed(hexBytes(c.did_seed)), accountFromKey(c.account_key), {
      audience: c.audience,
      now: new Date(c.now * 1000),
      ...(c.service ? { service: c.service } : {}),
    });
    expect(made).toEqual({
      did: c.did,
      account: c.account,
      jws: c.jws,
      account_signature: c.account_signature,
      service: c.service,
    });
    expect(decode(made.jws).header.typ).toBe(BINDING_TYP);
    expect(bindingRequest(made)).toEqual({
      binding: c.jws,
      account_signature: c.account_signature,
    });
  });

  it("writes a binding for Python to verify", async () => {
    const now = new Date();
    const audience = cases[0]?.audience ?? "";
    const made = await bind(
      didKeyFromSeed(hexBytes("23".repeat(32))),
      accountFromKey(`0x${"45".repeat(32)}`),
      {
        audience,
        now,
        service: "https://depute.example/ts",
      },
    );
    artifact("binding", { ...made, audience, now: Math.floor(now.getTime() / 1000) });
  });
});
