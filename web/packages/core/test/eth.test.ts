import type { TypedDataDefinition } from "viem";
import { describe, expect, it } from "vitest";
import {
  accountFromKey,
  checksumAddress,
  isChecksummed,
  personalSign,
  signTransaction,
  signTypedData,
} from "../src/eth";
import { artifact, golden } from "./golden";

interface EthVectors {
  private_key: string;
  address: string;
  personal_sign: { message: string; signature: string }[];
  personal_sign_raw: { message: string; signature: string }[];
  typed_data: {
    data: Record<string, unknown> & { message: Record<string, unknown> };
    signature: string;
  };
  transactions: {
    transaction: {
      chainId: number;
      maxFeePerGas: number;
      maxPriorityFeePerGas: number;
      to: `0x${string}`;
      value: string;
      data: `0x${string}`;
      nonce: number;
      gas: number;
    };
    raw: string;
    hash: string;
  }[];
  checksum: { lower: string; checksum: string }[];
}
const v = golden<EthVectors>("eth.json");
const account = accountFromKey(v.private_key);

function typedData(): TypedDataDefinition {
  const { EIP712Domain: _domain, ...types } = v.typed_data.data.types as Record<string, unknown>;
  const message = {
    ...v.typed_data.data.message,
    price: BigInt(v.typed_data.data.message.price as string),
  };
  return { ...v.typed_data.data, types, message } as unknown as TypedDataDefinition;
}

function transaction(t: EthVectors["transactions"][number]["transaction"]) {
  return {
    chainId: t.chainId,
    nonce: t.nonce,
    gas: BigInt(t.gas),
    maxFeePerGas: BigInt(t.maxFeePerGas),
    maxPriorityFeePerGas: BigInt(t.maxPriorityFeePerGas),
    to: t.to,
    value: BigInt(t.value),
    data: t.data,
  };
}

describe("Ethereum signing", () => {
  it("derives eth-account's address", () => {
    expect(account.address).toBe(v.address);
  });

  it.each(v.personal_sign)("personal_signs '$message' as eth-account does", async (c) => {
    expect(await personalSign(account, c.message)).toBe(c.signature);
  });

  it.each(v.personal_sign_raw)("personal_signs bytes $message as eth-account does", async (c) => {
    expect(await personalSign(account, { raw: c.message as `0x${string}` })).toBe(c.signature);
  });

  it("signs EIP-712 typed data as eth-account does", async () => {
    expect(await signTypedData(account, typedData())).toBe(v.typed_data.signature);
  });

  it.each(v.transactions)(
    "signs an EIP-1559 transaction as eth-account does ($hash)",
    async (c) => {
      expect(await signTransaction(account, transaction(c.transaction))).toEqual({
        raw: c.raw,
        hash: c.hash,
      });
    },
  );

  it.each(v.checksum)("checksums $lower as eth-utils does", (c) => {
    expect(checksumAddress(c.lower)).toBe(c.checksum);
    expect(isChecksummed(c.checksum)).toBe(true);
    expect(isChecksummed(c.lower)).toBe(c.lower === c.checksum);
  });

  it("refuses what is not a key or an address", () => {
    expect(() => accountFromKey("0x1234")).toThrowError(
      expect.objectContaining({ code: "invalid_request" }),
    );
    expect(() => checksumAddress("0xnothex")).toThrowError(
      expect.objectContaining({ code: "invalid_request" }),
    );
  });

  it("writes signatures for Python to recover", async () => {
    const mine = accountFromKey(`0x${"37".repeat(32)}`);
    const message = "signed in TypeScript ✓";
    const tx = transaction({ ...(v.transactions[1]?.transaction ?? ({} as never)), nonce: 12 });
    artifact("eth", {
      address: mine.address,
      message,
      personal_sign: await personalSign(mine, message),
      typed_data: { data: v.typed_data.data, signature: await signTypedData(mine, typedData()) },
      transaction: { ...(await signTransaction(mine, tx)), chain_id: tx.chainId },
    });
  });
});
