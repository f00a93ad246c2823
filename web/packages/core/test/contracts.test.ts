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
    const described = describeCall("DataToken", approve.data as `0x${string}`, { token: DATA });
    expect(described.function).toBe("approve");
    expect(described.args).toEqual([
      { name: "spender", type: "address", value: approve.args[0] },
      { name: "amount", type: "uint256", value: "1 DATA" },
    ]);
    expect(described.action).toBe(`Allow ${approve.args[0]} to spend up to 1 DATA`);
    expect(describeCall("DataToken", approve.data as `0x${string}`).args[1]?.value).toBe(
      "1000000000000000000",
    );
  });

  it("names the deployment's contracts and the sender's account in the words", () => {
    const deployment = {
      chain_id: 1337,
      token: "0xF2E246BB76DF876Cef8b38ae84130F4F55De395b",
      market: "0xB9816fC57977D5A786E654c7CF76767be63b966e",
      registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      authority: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
      faucet: null,
    };
    const me = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
    const data = encodeCall("DataToken", "transferFrom", [me, deployment.market, 25n * 10n ** 17n]);
    const context = { token: DATA, deployment, sender: me.toLowerCase() };
    expect(describeCall("DataToken", data, context).action).toBe(
      `Move 2.5 DATA from your account ${me} to the marketplace (${deployment.market})`,
    );
    expect(describeCall("DataToken", data, { token: DATA }).action).toBe(
      `Move 2.5 DATA from ${me} to ${deployment.market}`,
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
    const described = describeCall("Registry", data, { token: DATA });
    expect(described.args.map((a) => `${a.name} ${a.value}`).join(", ")).toBe(
      `product_id ${product}, metadata_hash ${product}, policy_hash ${product}, mode 1, ` +
        "prices {access 1 DATA, subscription_per_second 0 DATA, subscription_min_seconds 60, computation 0.5 DATA}, " +
        `parents [${product}], stake 2 DATA`,
    );
    expect(described.action).toBe(`Publish product ${product} with a stake of 2 DATA`);
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
