/**
 * Ethereum signing with viem, byte-identical to eth-account (Python) for the
 * same key: EIP-191 personal_sign (version 0x45), EIP-712 typed data,
 * EIP-1559 (type 2) transactions, EIP-55 checksummed addresses. Secp256k1
 * signatures use RFC 6979 nonces, so they are deterministic. Runs anywhere.
 */
import {
  getAddress,
  type Hex,
  isAddress,
  keccak256,
  type TransactionSerializableEIP1559,
  type TypedDataDefinition,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { CoreError } from "./errors";

export type { Hex, PrivateKeyAccount };

/** The account of a 32-byte secp256k1 private key (bytes or 0x hex). */
export function accountFromKey(key: Uint8Array | string): PrivateKeyAccount {
  const hex =
    typeof key === "string"
      ? key
      : `0x${Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  const prefixed = (hex.startsWith("0x") ? hex : `0x${hex}`) as Hex;
  if (!/^0x[0-9a-fA-F]{64}$/.test(prefixed)) {
    throw new CoreError("invalid_request", "an Ethereum private key is 32 bytes of hex");
  }
  return privateKeyToAccount(prefixed);
}

/** EIP-55 checksum of an address; `invalid_request` when it is not 20 bytes of hex. */
export function checksumAddress(address: string): string {
  if (!isAddress(address, { strict: false })) {
    throw new CoreError("invalid_request", `not an Ethereum address: ${address.slice(0, 60)}`);
  }
  return getAddress(address);
}

/** True when `address` is written with its EIP-55 checksum (what the API requires). */
export function isChecksummed(address: string): boolean {
  return isAddress(address, { strict: true }) && getAddress(address) === address;
}

/** EIP-191 personal_sign of UTF-8 text (`{ raw }` signs bytes), as eth-account's encode_defunct. */
export function personalSign(
  account: PrivateKeyAccount,
  message: string | { raw: Hex | Uint8Array },
): Promise<Hex> {
  return account.signMessage({ message });
}

/** EIP-712 signature of typed data (domain, types, primaryType, message). */
export function signTypedData(account: PrivateKeyAccount, data: TypedDataDefinition): Promise<Hex> {
  return account.signTypedData(data);
}

/** A signed EIP-1559 transaction (raw, ready for eth_sendRawTransaction) and its hash. */
export async function signTransaction(
  account: PrivateKeyAccount,
  transaction: Omit<TransactionSerializableEIP1559, "type">,
): Promise<{ raw: Hex; hash: Hex }> {
  const raw = await account.signTransaction({ ...transaction, type: "eip1559" });
  return { raw, hash: keccak256(raw) };
}
