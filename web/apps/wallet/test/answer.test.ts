import { didKeyFromSeed, type StoredCredential, sign, VC_TYP, VP_TYP, verify } from "@kraken/core";
import { BINDING_TYP } from "@kraken/core/binding";
import { accountFromKey } from "@kraken/core/eth";
import type { WalletKeys } from "@kraken/core/walletFile";
import { recoverMessageAddress } from "viem";
import { describe, expect, it } from "vitest";
import {
  answerBinding,
  answerSignin,
  decline,
  type Poster,
  SigningRefused,
} from "../src/lib/answer";
import { CLIENT_ID_PREFIX, type WalletRequest } from "../src/lib/request";

const verifier = didKeyFromSeed(new Uint8Array(32).fill(1));
const issuer = didKeyFromSeed(new Uint8Array(32).fill(2));
const keys: WalletKeys = {
  didKey: didKeyFromSeed(new Uint8Array(32).fill(3)),
  account: accountFromKey(new Uint8Array(32).fill(4)),
};
const MARKET = "http://127.0.0.1:8700";

const common = {
  clientId: CLIENT_ID_PREFIX + verifier.did,
  verifier: verifier.did,
  clientName: "Kraken Market",
  responseUri: `${MARKET}/api/v1/auth/requests/r1/response`,
  origin: MARKET,
  nonce: "the-nonce",
  state: "the-state",
  expiresAt: new Date(Date.now() + 300_000),
};
const signin: WalletRequest = { ...common, kind: "signin", dcql: { credentials: [] } };
const binding: WalletRequest = {
  ...common,
  kind: "signing",
  signing: { kind: "bind_account", did: keys.didKey.did, audience: MARKET },
};

function credential(id: string, type: string): StoredCredential {
  const now = Math.floor(Date.now() / 1000);
  const token = sign(
    issuer,
    {
      id,
      type: ["VerifiableCredential", type],
      issuer: issuer.did,
      validFrom: new Date(now * 1000).toISOString(),
      credentialSubject: { id: keys.didKey.did },
    },
    VC_TYP,
  );
  return { id, type, issuer: issuer.did, valid_until: null, subject: {}, token };
}

function recorder(reply: Record<string, unknown> = {}) {
  const sent: Array<{ url: string; fields: Record<string, string> }> = [];
  const post: Poster = async (url, fields) => {
    sent.push({ url, fields });
    return reply;
  };
  return { sent, post };
}

describe("answering a sign-in", () => {
  it("posts one vp+jwt per credential for the client_id and nonce, with the state", async () => {
    const { sent, post } = recorder({ redirect_uri: `${MARKET}/signin/complete#response_code=x` });
    const person = credential("urn:uuid:p", "PersonCredential");
    const roles = [
      credential("urn:uuid:r1", "PlatformRoleCredential"),
      credential("urn:uuid:r2", "PlatformRoleCredential"),
    ];
    const chosen = new Map([
      ["person", [person]],
      ["platform_role", roles],
    ]);
    const answered = await answerSignin(keys, signin, chosen, post);
    expect(answered.redirectUri).toBe(`${MARKET}/signin/complete#response_code=x`);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe(common.responseUri);
    expect(sent[0]?.fields.state).toBe("the-state");
    const token = JSON.parse(sent[0]?.fields.vp_token ?? "{}") as Record<string, string[]>;
    expect(Object.keys(token)).toEqual(["person", "platform_role"]);
    expect(token.platform_role).toHaveLength(2);
    for (const vp of Object.values(token).flat()) {
      const checked = verify(vp, VP_TYP, { maxBytes: 65_536 });
      expect(checked.did).toBe(keys.didKey.did);
      expect(checked.payload.aud).toBe(common.clientId);
      expect(checked.payload.nonce).toBe("the-nonce");
      expect((checked.payload.verifiableCredential as unknown[]).length).toBe(1);
    }
  });

  it("declines with access_denied and the state", async () => {
    const { sent, post } = recorder();
    expect((await decline(signin, post)).redirectUri).toBeNull();
    expect(sent[0]?.fields).toEqual({ error: "access_denied", state: "the-state" });
  });
});

describe("answering a bind_account signing request", () => {
  it("posts the binding signed by the DID key and the account's personal_sign of it", async () => {
    const { sent, post } = recorder();
    await answerBinding(keys, binding, post);
    const fields = sent[0]?.fields ?? {};
    expect(Object.keys(fields).sort()).toEqual(["account_signature", "binding", "state"]);
    const checked = verify(fields.binding ?? "", BINDING_TYP, { maxBytes: 16_384 });
    expect(checked.did).toBe(keys.didKey.did);
    expect(checked.payload).toMatchObject({
      did: keys.didKey.did,
      account: keys.account.address,
      aud: MARKET,
    });
    const signer = await recoverMessageAddress({
      message: fields.binding ?? "",
      signature: (fields.account_signature ?? "0x") as `0x${string}`,
    });
    expect(signer).toBe(keys.account.address);
  });

  it("refuses a request for another identity, and posts nothing", async () => {
    const { sent, post } = recorder();
    const other = didKeyFromSeed(new Uint8Array(32).fill(5)).did;
    const foreign: WalletRequest = {
      ...common,
      kind: "signing",
      signing: { kind: "bind_account", did: other, audience: MARKET },
    };
    await expect(answerBinding(keys, foreign, post)).rejects.toThrow(SigningRefused);
    await expect(answerBinding(keys, signin, post)).rejects.toThrow(/bind_account/);
    expect(sent).toEqual([]);
  });
});
