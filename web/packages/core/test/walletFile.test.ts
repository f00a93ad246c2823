import { describe, expect, it } from "vitest";
import { toHex } from "../src/bytes";
import { didKeyFromSeed } from "../src/did";
import type { EncryptOptions, KeystoreV3 } from "../src/keystore";
import {
  addCredential,
  createWallet,
  parseWallet,
  presentFromWallet,
  serializeWallet,
  unlockWallet,
  type WalletDocument,
} from "../src/walletFile";
import { artifact, golden, hexBytes } from "./golden";

interface WalletVector {
  passphrase: string;
  did_seed: string;
  account_key: string;
  now: string;
  text: string;
}
const vector = golden<WalletVector>("wallet.json");
const python = parseWallet(vector.text);
const issuerCredential = python.credentials[0];

function fixed(store: KeystoreV3): EncryptOptions {
  const params = store.crypto.kdfparams;
  return { salt: hexBytes(params.salt), iv: hexBytes(store.crypto.cipherparams.iv), id: store.id };
}

describe("the CLI wallet file", () => {
  it("opens and unlocks the wallet Python wrote", async () => {
    const keys = await unlockWallet(python, vector.passphrase);
    expect(keys.didKey.did).toBe(python.did);
    expect(keys.account.address).toBe(python.address);
    expect(toHex(keys.didKey.publicKey)).toBe(
      toHex(didKeyFromSeed(hexBytes(vector.did_seed)).publicKey),
    );
    expect(python.credentials[0]?.type).toBe("PersonCredential");
  });

  it("writes Python's wallet byte for byte from the same keys, salts and credential", async () => {
    const made = await createWallet(vector.passphrase, {
      accountKey: vector.account_key,
      didSeed: hexBytes(vector.did_seed),
      work: 1024,
      now: new Date(vector.now),
      didKeyOptions: fixed(python.did_key),
      accountOptions: fixed(python.account),
    });
    const token = issuerCredential?.token ?? "";
    const withCredential = addCredential(made, token, new Date(vector.now));
    expect(serializeWallet(withCredential)).toBe(vector.text);
  });

  it("refuses a wrong passphrase, a tampered file and a credential about someone else", async () => {
    await expect(unlockWallet(python, "wrong passphrase")).rejects.toMatchObject({
      code: "wrong_passphrase",
    });
    const swapped: WalletDocument = {
      ...python,
      did: didKeyFromSeed(hexBytes("01".repeat(32))).did,
    };
    await expect(unlockWallet(swapped, vector.passphrase)).rejects.toMatchObject({
      code: "wallet_invalid",
    });
    expect(() => parseWallet('{"kind": "kraken-market-wallet", "version": 2}')).toThrowError(
      expect.objectContaining({ code: "wallet_invalid" }),
    );
    const other = await createWallet("another passphrase", { work: 1024 });
    expect(() =>
      addCredential(other, issuerCredential?.token ?? "", new Date(vector.now)),
    ).toThrowError(expect.objectContaining({ code: "credential_not_for_wallet" }));
    expect(() =>
      addCredential(python, issuerCredential?.token ?? "", new Date(vector.now)),
    ).toThrowError(expect.objectContaining({ code: "credential_duplicate" }));
    await expect(createWallet("short")).rejects.toMatchObject({ code: "weak_passphrase" });
    const keys = await unlockWallet(python, vector.passphrase);
    const options = {
      audience: "https://market.example",
      nonce: "n",
      types: ["AttorneyCredential"],
    };
    expect(() => presentFromWallet(python, keys, options)).toThrowError(
      expect.objectContaining({ code: "nothing_to_present" }),
    );
  });

  it("writes a wallet, with a credential and a presentation, for Python to open", async () => {
    const passphrase = "a wallet made in TypeScript ✓";
    const made = await createWallet(passphrase, { didSeed: hexBytes(vector.did_seed), work: 1024 });
    const wallet = addCredential(made, issuerCredential?.token ?? "", new Date());
    const keys = await unlockWallet(parseWallet(serializeWallet(wallet)), passphrase);
    const nonce = "wallet nonce";
    const presentation = presentFromWallet(wallet, keys, {
      audience: "https://market.example",
      nonce,
    });
    artifact("wallet", { passphrase, text: serializeWallet(wallet), presentation, nonce });
  });
});
