/**
 * Signing requests in words (runs in the browser). Only `bind_account` is signed for
 * now; a message or a transaction is shown (a transaction's call decoded with core
 * `describeCall` against each of the marketplace's contracts) and can only be declined.
 */

/** A binding for another site than the one asking: the page warns before approval. */
export function foreignAudience(signing: SigningRequest, origin: string): boolean {
  if (signing.kind !== "bind_account") return false;
  try {
    return new URL(signing.audience).origin !== origin;
  } catch {
    return true;
  }
}

import { CONTRACT_ABIS, type ContractName, describeCall } from "@kraken/core/contracts";
import type { Hex } from "@kraken/core/eth";
import type { SigningRequest } from "../lib/request";

export function describeSigning(signing: SigningRequest, account: string): string {
  switch (signing.kind) {
    case "bind_account":
      return `Link your account ${account} to your identity ${signing.did} at ${signing.audience}`;
    case "message":
      return `Sign the message: “${signing.text}”`;
    case "transaction": {
      for (const name of Object.keys(CONTRACT_ABIS) as ContractName[]) {
        try {
          const call = describeCall(name, signing.data as Hex);
          return `Send a transaction to ${signing.to} on chain ${signing.chainId}: ${call.text}`;
        } catch {
          // not this contract's call: try the next
        }
      }
      return `Send a transaction to ${signing.to} on chain ${signing.chainId} with data ${signing.data.slice(0, 42)}…`;
    }
  }
}
