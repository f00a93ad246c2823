/**
 * The marketplace's contracts for viem: their ABIs (generated from the
 * committed Vyper artifacts into abis.ts, `as const` so viem types every
 * call's arguments; test/contracts.test.ts fails when they drift), call
 * encoding, and a call read from its call data and put in words for the
 * wallet's approval screen: the same words as kraken_market/ledger/calls.py
 * (`ACTIONS`, `CONTRACT_WORDS`, `AMOUNT_INPUTS`; tests/web/test_wallet_words.py
 * compares the tables). Calls are decoded by the Solidity contract ABI
 * specification (viem `decodeFunctionData`). Runs anywhere.
 */
import {
  type AbiParameter,
  decodeFunctionData,
  encodeFunctionData,
  getAddress,
  type Hex,
} from "viem";
import { authorityAbi, dataTokenAbi, faucetAbi, marketAbi, registryAbi } from "./abis";
import { formatAmount, type Token } from "./amounts";
import { CoreError } from "./errors";

export const CONTRACT_ABIS = {
  Authority: authorityAbi,
  DataToken: dataTokenAbi,
  Faucet: faucetAbi,
  Market: marketAbi,
  Registry: registryAbi,
} as const;

export type ContractName = keyof typeof CONTRACT_ABIS;
export { authorityAbi, dataTokenAbi, faucetAbi, marketAbi, registryAbi };

/** Inputs (by name) that are amounts of DATA in base units: shown with the token's decimals. */
export const AMOUNT_INPUTS: ReadonlySet<string> = new Set([
  "amount",
  "max_amount",
  "stake",
  "price_floor",
  "max_bond",
  "min_stake_",
  "claim_bond_",
  "access",
  "computation",
  "subscription_per_second",
]);

/** Call data of `functionName(...args)` on `contract` (viem's encodeFunctionData). */
export function encodeCall(
  contract: ContractName,
  functionName: string,
  args: readonly unknown[],
): Hex {
  try {
    return encodeFunctionData({ abi: CONTRACT_ABIS[contract], functionName, args } as Parameters<
      typeof encodeFunctionData
    >[0]);
  } catch (error) {
    throw new CoreError(
      "invalid_request",
      `${contract}.${functionName}: ${(error as Error).message.split("\n")[0]}`,
    );
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

/** What each of the deployment's contracts is called in words (an address argument that is one of them is shown so). */
export const CONTRACT_WORDS: Record<ContractName, string> = {
  DataToken: "the DATA token",
  Market: "the marketplace",
  Registry: "the product registry",
  Authority: "the marketplace's authority",
  Faucet: "the faucet",
};

/** The marketplace's calls in words; any other call is shown as its function and named arguments. */
export const ACTIONS: Partial<Record<`${ContractName}.${string}`, string>> = {
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

function named(deployment: Deployment): Array<[ContractName, string]> {
  const contracts: Array<[ContractName, string]> = [
    ["DataToken", deployment.token],
    ["Authority", deployment.authority],
    ["Registry", deployment.registry],
    ["Market", deployment.market],
  ];
  if (deployment.faucet) contracts.push(["Faucet", deployment.faucet]);
  return contracts;
}

/** The deployment's contract at `address`, if it is one. */
export function contractAt(deployment: Deployment, address: string): ContractName | undefined {
  const lower = address.toLowerCase();
  return named(deployment).find(([, at]) => at.toLowerCase() === lower)?.[0];
}

/** What the words of a call may use: without a token amounts stay in base units; without a deployment addresses stay bare. */
export interface CallContext {
  readonly token?: Token;
  readonly deployment?: Deployment;
  /** The account sending the call: shown as "your account 0x…". */
  readonly sender?: string;
}

export interface DescribedArgument {
  readonly name: string;
  readonly type: string;
  /** The value in words: amounts as "2.5 DATA" when a token is given, numbers in decimal. */
  readonly value: string;
}

export interface DescribedCall {
  readonly contract: ContractName;
  readonly function: string;
  readonly args: readonly DescribedArgument[];
  /** What the call does, in words: "Allow the marketplace (0x…) to spend up to 12.5 DATA". */
  readonly action: string;
}

function show(parameter: AbiParameter, value: unknown, context: CallContext): string {
  const name = parameter.name ?? "";
  if (
    parameter.type === "tuple" &&
    "components" in parameter &&
    typeof value === "object" &&
    value !== null
  ) {
    const parts = parameter.components.map((component, index) => {
      const item = Array.isArray(value)
        ? value[index]
        : (value as Record<string, unknown>)[component.name ?? ""];
      return `${component.name} ${show(component, item, context)}`;
    });
    return `{${parts.join(", ")}}`;
  }
  if (Array.isArray(value)) {
    const inner = { ...parameter, type: parameter.type.replace(/\[\d*\]$/, "") };
    return `[${value.map((v) => show(inner, v, context)).join(", ")}]`;
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "bigint" || typeof value === "number") {
    const units = BigInt(value);
    const { token } = context;
    return token && AMOUNT_INPUTS.has(name)
      ? `${formatAmount(units, token.decimals)} ${token.symbol}`
      : units.toString();
  }
  if (parameter.type === "address" && typeof value === "string") {
    const address = getAddress(value);
    if (address.toLowerCase() === context.sender?.toLowerCase()) return `your account ${address}`;
    const contract = context.deployment && contractAt(context.deployment, address);
    return contract ? `${CONTRACT_WORDS[contract]} (${address})` : address;
  }
  return String(value);
}

/**
 * What a call of `contract` does, read from its call data: the function, its named
 * arguments and the action in words (with the context's token, deployment and sender).
 * Throws `invalid_request` when the data is no call of the contract's functions.
 */
export function describeCall(
  contract: ContractName,
  data: Hex,
  context: CallContext = {},
): DescribedCall {
  const abi = CONTRACT_ABIS[contract];
  let decoded: { functionName: string; args: readonly unknown[] | undefined };
  try {
    decoded = decodeFunctionData({ abi, data }) as typeof decoded;
  } catch {
    throw new CoreError(
      "invalid_request",
      `the call data is not a call of the ${contract} contract`,
    );
  }
  const fn = abi.find((item) => item.type === "function" && item.name === decoded.functionName);
  const inputs: readonly AbiParameter[] = fn && "inputs" in fn ? fn.inputs : [];
  const args = inputs.map((input, index) => ({
    name: input.name ?? `arg${index}`,
    type: input.type,
    value: show(input, decoded.args?.[index], context),
  }));
  const shown = new Map(args.map((a) => [a.name, a.value]));
  const template = ACTIONS[`${contract}.${decoded.functionName}`];
  const action =
    template !== undefined
      ? template.replace(/\{(\w+)\}/g, (_, name: string) => shown.get(name) ?? "?")
      : `Call ${decoded.functionName} on ${CONTRACT_WORDS[contract]} (${
          args.map((a) => `${a.name} ${a.value}`).join(", ") || "no arguments"
        })`;
  return { contract, function: decoded.functionName, args, action };
}
