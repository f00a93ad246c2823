/**
 * The marketplace's contracts for viem: their ABIs (generated from the
 * committed Vyper artifacts into abis.ts, `as const` so viem types every
 * call's arguments; test/contracts.test.ts fails when they drift), call
 * encoding, and a call described in words for the wallet's approval screen.
 * Runs anywhere.
 */
import { type AbiParameter, decodeFunctionData, encodeFunctionData, type Hex } from "viem";
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
  /** One line: `DataToken.approve(spender 0x5FbD…, amount 1 DATA)`. */
  readonly text: string;
}

function show(parameter: AbiParameter, value: unknown, token: Token | undefined): string {
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
      return `${component.name} ${show(component, item, token)}`;
    });
    return `{${parts.join(", ")}}`;
  }
  if (Array.isArray(value))
    return `[${value.map((v) => show({ ...parameter, type: parameter.type.replace(/\[\d*\]$/, "") }, v, token)).join(", ")}]`;
  if (typeof value === "bigint") {
    return token && AMOUNT_INPUTS.has(name)
      ? `${formatAmount(value, token.decimals)} ${token.symbol}`
      : value.toString();
  }
  return String(value);
}

/** What a call does, in words, from its call data: the function and its named arguments. */
export function describeCall(contract: ContractName, data: Hex, token?: Token): DescribedCall {
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
    value: show(input, decoded.args?.[index], token),
  }));
  const text = `${contract}.${decoded.functionName}(${args.map((a) => `${a.name} ${a.value}`).join(", ")})`;
  return { contract, function: decoded.functionName, args, text };
}
