import { describe, expect, it } from "vitest";
import { CONTRACT_ABIS, type ContractName, describeCall, encodeCall } from "../src/contracts";
import { golden, repoFile } from "./golden";

const ARTIFACTS = "src/kraken_market/ledger/contracts/artifacts";
const calls = golden<{
  call_data: { contract: ContractName; function: string; args: string[]; data: string }[];
}>("eth.json").call_data;
const DATA = { address: "0x0", symbol: "DATA", decimals: 18 };

describe("contracts", () => {
  it.each(Object.keys(CONTRACT_ABIS) as ContractName[])(
    "has %s's committed ABI (run scripts/abis.mjs on drift)",
    (name) => {
      const artifact = JSON.parse(repoFile(`${ARTIFACTS}/${name}.json`)) as { abi: unknown };
      expect(CONTRACT_ABIS[name]).toEqual(artifact.abi);
    },
  );

  it.each(calls)("encodes $contract.$function as eth-abi does", (c) => {
    const [to, amount] = c.args;
    expect(encodeCall(c.contract, c.function, [to, BigInt(amount ?? "0")])).toBe(c.data);
  });

  it("describes a call in words, amounts with the token's decimals", () => {
    const approve = calls[0];
    if (!approve) throw new Error("no call vector");
    const described = describeCall("DataToken", approve.data as `0x${string}`, DATA);
    expect(described.function).toBe("approve");
    expect(described.args).toEqual([
      { name: "spender", type: "address", value: approve.args[0] },
      { name: "amount", type: "uint256", value: "1 DATA" },
    ]);
    expect(described.text).toBe(`DataToken.approve(spender ${approve.args[0]}, amount 1 DATA)`);
    expect(describeCall("DataToken", approve.data as `0x${string}`).args[1]?.value).toBe(
      "1000000000000000000",
    );
  });

  it("describes tuples and arrays (Registry.publish)", () => {
    const product = `0x${"11".repeat(32)}` as const;
    const data = encodeCall("Registry", "publish", [
      product,
      product,
      product,
      1,
      {
        access: 10n ** 18n,
        subscription_per_second: 0n,
        subscription_min_seconds: 60n,
        computation: 5n * 10n ** 17n,
      },
      [product],
      2n * 10n ** 18n,
    ]);
    expect(describeCall("Registry", data, DATA).text).toBe(
      `Registry.publish(product_id ${product}, metadata_hash ${product}, policy_hash ${product}, mode 1, ` +
        "prices {access 1 DATA, subscription_per_second 0 DATA, subscription_min_seconds 60, computation 0.5 DATA}, " +
        `parents [${product}], stake 2 DATA)`,
    );
  });

  it("refuses call data of another contract and wrong arguments", () => {
    const approve = calls[0]?.data as `0x${string}`;
    expect(() => describeCall("Market", approve)).toThrowError(
      expect.objectContaining({ code: "invalid_request" }),
    );
    expect(() => encodeCall("DataToken", "approve", ["0x1", 1n])).toThrowError(
      expect.objectContaining({ code: "invalid_request" }),
    );
  });
});
