import type { Deployment } from "@kraken/core/contracts";
import { encodeCall } from "@kraken/core/contracts";
import { describe, expect, it } from "vitest";
import type { AskedTransaction } from "../src/lib/request";
import {
  askedElsewhere,
  describeSigning,
  foreignAudience,
  type Marketplace,
  readTransaction,
} from "../src/pages/signing";

const DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
const ACCOUNT = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
const DEPLOYMENT: Deployment = {
  chain_id: 131277322940537,
  token: "0xF2E246BB76DF876Cef8b38ae84130F4F55De395b",
  market: "0xB9816fC57977D5A786E654c7CF76767be63b966e",
  registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  authority: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  faucet: null,
};
const DATA = { address: DEPLOYMENT.token, symbol: "DATA", decimals: 18 };
const FRIEND = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB";
const MARKET = "http://127.0.0.1:8700";
const OURS: Marketplace = { origin: MARKET, deployment: DEPLOYMENT, token: DATA };

function asked(data: string, changes: Partial<AskedTransaction> = {}): AskedTransaction {
  return {
    kind: "transaction",
    did: DID,
    account: ACCOUNT,
    chainId: DEPLOYMENT.chain_id,
    to: DEPLOYMENT.token,
    data,
    value: 0n,
    nonce: 4,
    gas: 73_633n,
    maxFeePerGas: 1_441_867_494n,
    maxPriorityFeePerGas: 1_000_000_000n,
    ...changes,
  };
}

describe("signing requests in words", () => {
  it("says which account is linked to which identity, for which marketplace", () => {
    const signing = { kind: "bind_account", did: DID, audience: "http://127.0.0.1:8700" } as const;
    expect(describeSigning(signing, ACCOUNT)).toBe(
      `Link your account ${ACCOUNT} to your identity ${DID} at http://127.0.0.1:8700`,
    );
    expect(foreignAudience(signing, "http://127.0.0.1:8700")).toBe(false);
    expect(foreignAudience(signing, "https://evil.example")).toBe(true);
  });

  it("reads an allowance from the call data, in the CLI wallet's words", () => {
    const data = encodeCall("DataToken", "approve", [
      DEPLOYMENT.market,
      12_500_000_000_000_000_000n,
    ]);
    const read = readTransaction(asked(data), MARKET, OURS, ACCOUNT);
    expect(read).toEqual({
      ok: true,
      contract: "DataToken",
      address: DEPLOYMENT.token,
      function: "approve",
      action: `Allow the marketplace (${DEPLOYMENT.market}) to spend up to 12.5 DATA`,
      maxFee: "0.000106169029185702",
    });
  });

  it("reads a transfer and a marketplace purchase", () => {
    const transfer = encodeCall("DataToken", "transfer", [FRIEND, 3n * 10n ** 18n]);
    const read = readTransaction(asked(transfer), MARKET, OURS, ACCOUNT);
    expect(read.ok && read.action).toBe(`Send 3 DATA to ${FRIEND}`);
    const item = `0x${"ab".repeat(32)}`;
    const buy = encodeCall("Market", "buy_access", [item, 1, 4n * 10n ** 18n]);
    const bought = readTransaction(asked(buy, { to: DEPLOYMENT.market }), MARKET, OURS, ACCOUNT);
    expect(bought.ok && bought.action).toBe(
      `Buy access to product ${item} for purpose 1, paying at most 4 DATA`,
    );
  });

  it("refuses what does not match: chain, account, target, undecodable call data", () => {
    const data = encodeCall("DataToken", "transfer", [FRIEND, 1n]);
    const problem = (changes: Partial<AskedTransaction>, account = ACCOUNT) => {
      const read = readTransaction(asked(data, changes), MARKET, OURS, account);
      return read.ok ? "signed" : read.problem;
    };
    expect(problem({ chainId: 1 })).toMatch(/is for chain 1, and the marketplace's contracts/);
    expect(problem({}, FRIEND)).toMatch(/this wallet's account is 0xABaB/);
    expect(problem({ to: FRIEND })).toBe(`${FRIEND} is not one of the marketplace's contracts.`);
    expect(problem({ data: "0xdeadbeef" })).toBe(
      "The call data is not a call of the DataToken contract.",
    );
    expect(problem({ to: DEPLOYMENT.market })).toBe(
      "The call data is not a call of the Market contract.",
    );
    expect(problem({ value: 1n })).toBe("The transaction would send ether along with the call.");
  });

  it("refuses a transaction another origin asks for: the deployment is only ever its own marketplace's", () => {
    const evil = "https://evil.example";
    const EVIL = "0x000000000000000000000000000000000000bEEF";
    const data = encodeCall("DataToken", "approve", [EVIL, 10n ** 24n]);
    const refusal =
      `${evil} asks this wallet to sign a transaction, and this wallet signs transactions only ` +
      `for its own marketplace, ${MARKET}. Nothing was signed: open the wallet of the marketplace you are using there.`;
    expect(askedElsewhere(evil, MARKET)).toBe(refusal);
    expect(readTransaction(asked(data), evil, OURS, ACCOUNT)).toEqual({
      ok: false,
      problem: refusal,
    });
    // The same marketplace however spelled (default port, case) is its own.
    expect(askedElsewhere("HTTP://127.0.0.1:8700", MARKET)).toBeNull();
    expect(askedElsewhere("https://market.example:443", "https://market.example")).toBeNull();
    expect(askedElsewhere("http://127.0.0.1:8701", MARKET)).not.toBeNull();
    expect(askedElsewhere("not a url", MARKET)).not.toBeNull();
  });
});
