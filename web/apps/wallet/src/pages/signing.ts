/**
 * Signing requests in words (runs in the browser; pure, so Vitest checks the words).
 *
 * A transaction is read by the wallet itself: its call data decoded with viem's
 * decodeFunctionData against the committed ABI of the marketplace's contract at its
 * target (core `CONTRACT_ABIS`), the contract found in the marketplace's public
 * deployment, amounts of DATA shown with the token's decimals. Nothing the request says
 * about the call is trusted: it carries no description, only what is signed. The words
 * are those of the CLI wallet (kraken_market/ledger/calls.py, `ACTIONS`).
 */
import { formatAmount, type Token } from "@kraken/core";
import { AMOUNT_INPUTS, CONTRACT_ABIS, type ContractName } from "@kraken/core/contracts";
import type { Hex } from "@kraken/core/eth";
import type { AbiParameter } from "viem";
import { decodeFunctionData, getAddress, isAddress } from "viem";
import type { AskedTransaction, SigningRequest } from "../lib/request";

/** A binding for another site than the one asking: the page warns before approval. */
export function foreignAudience(signing: SigningRequest, origin: string): boolean {
  if (signing.kind !== "bind_account") return false;
  try {
    return new URL(signing.audience).origin !== origin;
  } catch {
    return true;
  }
}

/** The one-line statement of a binding or a message request (a transaction: `readTransaction`). */
export function describeSigning(signing: SigningRequest, account: string): string {
  switch (signing.kind) {
    case "bind_account":
      return `Link your account ${account} to your identity ${signing.did} at ${signing.audience}`;
    case "message":
      return `Sign this message with your account ${signing.account}:`;
    case "transaction":
      return `Send a transaction from your account ${signing.account}`;
  }
}

/** The marketplace's contracts as GET /api/v1/ledger/deployment answers. */
export interface Deployment {
  readonly chain_id: number;
  readonly token: string;
  readonly market: string;
  readonly registry: string;
  readonly authority: string;
  readonly faucet: string | null;
}

export const CONTRACT_WORDS: Record<ContractName, string> = {
  DataToken: "the DATA token",
  Market: "the marketplace",
  Registry: "the product registry",
  Authority: "the marketplace's authority",
  Faucet: "the faucet",
};

const ACTIONS: Partial<Record<`${ContractName}.${string}`, string>> = {
  "DataToken.transfer": "Send {amount} to {to}",
  "DataToken.approve": "Allow {spender} to spend up to {amount}",
  "DataToken.transferFrom": "Move {amount} from {owner} to {to}",
  "DataToken.burn": "Destroy {amount}",
  "Faucet.drip": "Get {amount} from the faucet for {recipient}",
  "Market.buy_access":
    "Buy access to product {item} for purpose {purpose}, paying at most {max_amount}",
  "Market.subscribe":
    "Subscribe to product {item} for {seconds} seconds for purpose {purpose}, paying at most {max_amount}",
  "Market.request_computation":
    "Pay for computation {request_id} over products {items} for purpose {purpose}, paying at most {max_amount}",
  "Market.approve": "Approve product {product_id} bought in purchase {purchase_id}",
  "Market.file_claim":
    "File a claim against product {product_id} bought in purchase {purchase_id}, with a bond of at most {max_bond}",
  "Market.reclaim": "Take back the payment for computation {request_id}",
  "Market.release_stake": "Take back the stake of product {product_id}",
  "Registry.publish": "Publish product {product_id} with a stake of {stake}",
  "Registry.delist": "Delist product {product_id}",
  "Registry.set_availability": "Set the availability of product {product_id} to {availability}",
  "Registry.set_prices": "Change the prices of product {product_id} to {prices}",
};

function contracts(deployment: Deployment): Array<[ContractName, string]> {
  const named: Array<[ContractName, string]> = [
    ["DataToken", deployment.token],
    ["Authority", deployment.authority],
    ["Registry", deployment.registry],
    ["Market", deployment.market],
  ];
  if (deployment.faucet) named.push(["Faucet", deployment.faucet]);
  return named;
}

/** The deployment's contract at `address`, if it is one. */
export function contractAt(deployment: Deployment, address: string): ContractName | undefined {
  const lower = address.toLowerCase();
  return contracts(deployment).find(([, at]) => at.toLowerCase() === lower)?.[0];
}

interface Context {
  readonly deployment: Deployment;
  readonly token: Token;
  readonly sender: string;
}

function show(parameter: AbiParameter, value: unknown, context: Context): string {
  const name = parameter.name ?? "";
  if (parameter.type === "tuple" && "components" in parameter) {
    const record = value as Record<string, unknown> & unknown[];
    const parts = parameter.components.map(
      (c, i) =>
        `${c.name} ${show(c, Array.isArray(value) ? record[i] : record[c.name ?? ""], context)}`,
    );
    return `{${parts.join(", ")}}`;
  }
  if (Array.isArray(value)) {
    const inner = { ...parameter, type: parameter.type.replace(/\[\d*\]$/, "") };
    return `[${value.map((v) => show(inner, v, context)).join(", ")}]`;
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "bigint" || typeof value === "number") {
    const units = BigInt(value);
    return AMOUNT_INPUTS.has(name)
      ? `${formatAmount(units, context.token.decimals)} ${context.token.symbol}`
      : units.toString();
  }
  if (parameter.type === "address" && typeof value === "string") {
    const address = getAddress(value);
    if (address.toLowerCase() === context.sender.toLowerCase()) return `your account ${address}`;
    const contract = contractAt(context.deployment, address);
    return contract ? `${CONTRACT_WORDS[contract]} (${address})` : address;
  }
  return String(value);
}

/** A transaction as the wallet reads it, or why it will not sign it. */
export type ReadTransaction =
  | {
      readonly ok: true;
      readonly contract: ContractName;
      readonly address: string;
      readonly function: string;
      /** What the call does, in words: "Allow the marketplace (0x…) to spend up to 12.5 DATA". */
      readonly action: string;
      /** The most the transaction can cost in gas, in the chain's own currency ("0.0001"). */
      readonly maxFee: string;
    }
  | { readonly ok: false; readonly problem: string };

/**
 * Read the call from the transaction's call data against the deployment's contract at
 * its target. Refused (with the reason, in words) when the chain is not the
 * deployment's, the account is not the wallet's, the target is none of the
 * marketplace's contracts, it would send ether along, or the call does not decode.
 */
export function readTransaction(
  asked: AskedTransaction,
  deployment: Deployment,
  token: Token,
  walletAccount: string,
): ReadTransaction {
  if (asked.chainId !== deployment.chain_id) {
    return {
      ok: false,
      problem: `The transaction is for chain ${asked.chainId}, and the marketplace's contracts are on chain ${deployment.chain_id}.`,
    };
  }
  if (asked.account.toLowerCase() !== walletAccount.toLowerCase()) {
    return {
      ok: false,
      problem: `The transaction is to be sent from ${asked.account}, and this wallet's account is ${walletAccount}.`,
    };
  }
  const contract = isAddress(asked.to) ? contractAt(deployment, asked.to) : undefined;
  if (contract === undefined) {
    return { ok: false, problem: `${asked.to} is not one of the marketplace's contracts.` };
  }
  if (asked.value !== 0n) {
    return { ok: false, problem: "The transaction would send ether along with the call." };
  }
  const abi = CONTRACT_ABIS[contract];
  let decoded: { functionName: string; args?: readonly unknown[] };
  try {
    decoded = decodeFunctionData({ abi, data: asked.data as Hex }) as typeof decoded;
  } catch {
    return { ok: false, problem: `The call data is not a call of the ${contract} contract.` };
  }
  const fn = abi.find((item) => item.type === "function" && item.name === decoded.functionName);
  const inputs: readonly AbiParameter[] = fn && "inputs" in fn ? fn.inputs : [];
  const context = { deployment, token, sender: walletAccount };
  const shown = new Map(
    inputs.map((input, index) => [input.name ?? "", show(input, decoded.args?.[index], context)]),
  );
  const template = ACTIONS[`${contract}.${decoded.functionName}`];
  const action =
    template !== undefined
      ? template.replace(/\{(\w+)\}/g, (_, name: string) => shown.get(name) ?? "?")
      : `Call ${decoded.functionName} on ${CONTRACT_WORDS[contract]} (${
          [...shown].map(([name, value]) => `${name} ${value}`).join(", ") || "no arguments"
        })`;
  return {
    ok: true,
    contract,
    address: getAddress(asked.to),
    function: decoded.functionName,
    action,
    maxFee: formatAmount(asked.gas * asked.maxFeePerGas, 18),
  };
}
