/**
 * Signing requests in words (runs in the browser; pure, so Vitest checks the words).
 *
 * A transaction is read by the wallet itself: its call data decoded against the
 * committed ABI of the marketplace's contract at its target and put in words by core
 * `describeCall` (the words of the CLI wallet, kraken_market/ledger/calls.py), the
 * contract found in the deployment of the wallet's OWN marketplace (the origin that
 * serves this app), amounts of DATA shown with its token's decimals. Nothing the asker
 * says is trusted: the request carries no description, only what is signed, and a
 * deployment served by the asker could call the asker's own address "the marketplace";
 * so a transaction asked by any other origin is refused.
 */
import { formatAmount, type Token } from "@kraken/core";
import {
  type ContractName,
  contractAt,
  type Deployment,
  type DescribedCall,
  describeCall,
} from "@kraken/core/contracts";
import type { Hex } from "@kraken/core/eth";
import { getAddress, isAddress } from "viem";
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

/** The wallet's own marketplace: the origin serving this app, its deployment and its token. */
export interface Marketplace {
  readonly origin: string;
  readonly deployment: Deployment;
  readonly token: Token;
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * Why a transaction asked by `askedBy` is not signed by the wallet of the marketplace at
 * `marketplace`, or null when it is its own marketplace asking. Origins compare as the
 * URL standard serialises them (RFC 6454: scheme, host, port).
 */
export function askedElsewhere(askedBy: string, marketplace: string): string | null {
  const asker = originOf(askedBy);
  const own = originOf(marketplace);
  if (asker !== null && asker === own) return null;
  return `${askedBy} asks this wallet to sign a transaction, and this wallet signs transactions only for its own marketplace, ${marketplace}. Nothing was signed: open the wallet of the marketplace you are using there.`;
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
 * its target. Refused (with the reason, in words) when another origin than the wallet's
 * own marketplace asks (`askedBy`), the chain is not the deployment's, the account is
 * not the wallet's, the target is none of the marketplace's contracts, it would send
 * ether along, or the call does not decode.
 */
export function readTransaction(
  asked: AskedTransaction,
  askedBy: string,
  marketplace: Marketplace,
  walletAccount: string,
): ReadTransaction {
  const elsewhere = askedElsewhere(askedBy, marketplace.origin);
  if (elsewhere !== null) return { ok: false, problem: elsewhere };
  const { deployment, token } = marketplace;
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
  let call: DescribedCall;
  try {
    call = describeCall(contract, asked.data as Hex, { deployment, token, sender: walletAccount });
  } catch {
    return { ok: false, problem: `The call data is not a call of the ${contract} contract.` };
  }
  return {
    ok: true,
    contract,
    address: getAddress(asked.to),
    function: call.function,
    action: call.action,
    maxFee: formatAmount(asked.gas * asked.maxFeePerGas, 18),
  };
}
