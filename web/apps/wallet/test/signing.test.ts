import { encodeCall } from "@kraken/core/contracts";
import { describe, expect, it } from "vitest";
import { describeSigning, foreignAudience } from "../src/pages/signing";

const DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
const ACCOUNT = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
const SPENDER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("signing requests in words", () => {
  it("says which account is linked to which identity, for which marketplace", () => {
    const signing = { kind: "bind_account", did: DID, audience: "http://127.0.0.1:8700" } as const;
    expect(describeSigning(signing, ACCOUNT)).toBe(
      `Link your account ${ACCOUNT} to your identity ${DID} at http://127.0.0.1:8700`,
    );
    expect(foreignAudience(signing, "http://127.0.0.1:8700")).toBe(false);
    expect(foreignAudience(signing, "https://evil.example")).toBe(true);
  });

  it("decodes a transaction's call against the marketplace's contracts", () => {
    const data = encodeCall("DataToken", "approve", [SPENDER, 10n ** 18n]);
    const text = describeSigning(
      { kind: "transaction", did: DID, chainId: 31337, to: SPENDER, data, value: "0" },
      ACCOUNT,
    );
    expect(text).toMatch(/^Send a transaction to 0x5FbD.* on chain 31337: DataToken\.approve\(/);
    expect(text).toContain("1000000000000000000");
  });

  it("shows undecodable call data as it is", () => {
    const text = describeSigning(
      { kind: "transaction", did: DID, chainId: 1, to: SPENDER, data: "0xdeadbeef", value: "0" },
      ACCOUNT,
    );
    expect(text).toContain("with data 0xdeadbeef");
  });
});
