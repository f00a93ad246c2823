import { didKeyFromSeed, type StoredCredential, sign, VC_TYP, VP_TYP, verify } from "@kraken/core";
import { BINDING_TYP } from "@kraken/core/binding";
import { encodeCall } from "@kraken/core/contracts";
import { accountFromKey } from "@kraken/core/eth";
import type { WalletKeys } from "@kraken/core/walletFile";
import {
  keccak256,
  parseTransaction,
  recoverMessageAddress,
  recoverTransactionAddress,
} from "viem";
import { describe, expect, it } from "vitest";
import {
  answerBinding,
  answerMessage,
  answerSignin,
  answerTransaction,
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

describe("answering a transaction or a message", () => {
  const deployment = {
    chain_id: 131277322940537,
    token: "0xF2E246BB76DF876Cef8b38ae84130F4F55De395b",
    market: "0xB9816fC57977D5A786E654c7CF76767be63b966e",
    registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    authority: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    faucet: null,
  };
  const token = { address: deployment.token, symbol: "DATA", decimals: 18 };
  const marketplace = { origin: MARKET, deployment, token };
  const data = encodeCall("DataToken", "approve", [deployment.market, 10n ** 18n]);
  const transaction = (changes: Record<string, unknown> = {}): WalletRequest => ({
    ...common,
    kind: "signing",
    signing: {
      kind: "transaction",
      did: keys.didKey.did,
      account: keys.account.address,
      chainId: deployment.chain_id,
      to: deployment.token,
      data,
      value: 0n,
      nonce: 7,
      gas: 80_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
      ...changes,
    },
  });

  it("signs exactly the transaction asked for, EIP-1559, and posts it raw", async () => {
    const { sent, post } = recorder();
    const answered = await answerTransaction(keys, transaction(), marketplace, post);
    const raw = sent[0]?.fields.transaction as `0x${string}`;
    expect(sent[0]?.fields.state).toBe("the-state");
    expect(answered.transactionHash).toBe(keccak256(raw));
    const parsed = parseTransaction(raw);
    expect(parsed).toMatchObject({
      type: "eip1559",
      chainId: deployment.chain_id,
      nonce: 7,
      to: deployment.token.toLowerCase(),
      data,
      gas: 80_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
    expect(await recoverTransactionAddress({ serializedTransaction: raw as never })).toBe(
      keys.account.address,
    );
  });

  it("refuses to sign another chain's, another account's or an unreadable transaction", async () => {
    const { sent, post } = recorder();
    for (const changes of [{ chainId: 1 }, { account: deployment.market }, { data: "0x1234" }]) {
      await expect(
        answerTransaction(keys, transaction(changes), marketplace, post),
      ).rejects.toThrow(SigningRefused);
    }
    expect(sent).toEqual([]);
  });

  it("refuses a transaction another site asks for, whatever deployment that site serves", async () => {
    const { sent, post } = recorder();
    const evil = "https://evil.example";
    const foreign: WalletRequest = {
      ...transaction(),
      responseUri: `${evil}/api/v1/wallet-requests/r1/response`,
      origin: evil,
    };
    await expect(answerTransaction(keys, foreign, marketplace, post)).rejects.toThrow(
      `${evil} asks this wallet to sign a transaction, and this wallet signs transactions only for its own marketplace, ${MARKET}.`,
    );
    expect(sent).toEqual([]);
  });

  it("signs a message's text with EIP-191, only for this wallet's account", async () => {
    const { sent, post } = recorder();
    const text = "I accept the licence.\nKraken Market";
    const message = (account: string): WalletRequest => ({
      ...common,
      kind: "signing",
      signing: { kind: "message", did: keys.didKey.did, account, text },
    });
    await answerMessage(keys, message(keys.account.address), post);
    const signature = sent[0]?.fields.signature as `0x${string}`;
    expect(await recoverMessageAddress({ message: text, signature })).toBe(keys.account.address);
    await expect(answerMessage(keys, message(deployment.market), post)).rejects.toThrow(
      SigningRefused,
    );
    expect(sent).toHaveLength(1);
  });
});
