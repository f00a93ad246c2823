/**
 * A Request Object (OpenID4VP 1.0 §5, JWT-Secured Authorization Request, RFC 9101)
 * checked before anything of it is shown: its JWS verifies with the key of the DID in
 * its `client_id` (prefix `decentralized_identifier`, §5.9.3), it names the link's
 * `client_id`, it has not expired, and its `response_uri` is on the `request_uri`'s
 * origin (so the answer goes back to whoever served the request). Pure code (browser,
 * Vitest), the rules of the CLI wallet's `open_request` (identity/openid4vp_wallet.py).
 *
 * Two kinds share the shape: sign-in (`response_type` `vp_token`, a DCQL query) and
 * signing (`response_type` `kraken_signature`, a `signing_request` claim).
 */
import { type JsonObject, type JsonValue, verify } from "@kraken/core";
import { parseQueries } from "./dcql";
import type { RequestLink } from "./links";

export const REQUEST_TYP = "oauth-authz-req+jwt";
export const REQUEST_MEDIA_TYPE = "application/oauth-authz-req+jwt";
export const CLIENT_ID_PREFIX = "decentralized_identifier:";
const MAX_REQUEST_BYTES = 65_536;

export class RequestError extends Error {
  override readonly name = "RequestError";
  readonly code = "request_object_invalid";
}

/** An EIP-1559 transaction as the request states it (every field the wallet signs). */
export interface AskedTransaction {
  readonly kind: "transaction";
  readonly did: string;
  /** The ledger account asked to sign: the one bound to the DID. */
  readonly account: string;
  readonly chainId: number;
  readonly to: string;
  readonly data: string;
  readonly value: bigint;
  readonly nonce: number;
  readonly gas: bigint;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

export type SigningRequest =
  | { readonly kind: "bind_account"; readonly did: string; readonly audience: string }
  | {
      readonly kind: "message";
      readonly did: string;
      readonly account: string;
      readonly text: string;
    }
  | AskedTransaction;

interface Common {
  readonly clientId: string;
  /** The verifier's DID (the client_id without its prefix). */
  readonly verifier: string;
  readonly clientName: string;
  readonly responseUri: string;
  /** The origin the network proves: what the page shows beside the name. */
  readonly origin: string;
  readonly nonce: string;
  readonly state: string;
  readonly expiresAt: Date;
}

export type WalletRequest =
  | (Common & { readonly kind: "signin"; readonly dcql: JsonValue })
  | (Common & { readonly kind: "signing"; readonly signing: SigningRequest });

function fail(message: string): never {
  throw new RequestError(message);
}

function text(payload: JsonObject, claim: string): string {
  const value = payload[claim];
  if (typeof value !== "string" || value === "") fail(`the request has no '${claim}'`);
  return value;
}

function whole(payload: JsonObject, claim: string): bigint {
  const value = payload[claim];
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^[0-9]{1,78}$/.test(value)) return BigInt(value);
  return fail(`the transaction's ${claim} is missing or not a whole number`);
}

function signingRequest(value: JsonValue | undefined): SigningRequest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("the signing request carries no 'signing_request'");
  }
  const did = text(value, "did");
  switch (value.kind) {
    case "bind_account":
      return { kind: "bind_account", did, audience: text(value, "audience") };
    case "message":
      return { kind: "message", did, account: text(value, "account"), text: text(value, "text") };
    case "transaction":
      return {
        kind: "transaction",
        did,
        account: text(value, "account"),
        chainId: Number(whole(value, "chain_id")),
        to: text(value, "to"),
        data: text(value, "data"),
        value: whole(value, "value"),
        nonce: Number(whole(value, "nonce")),
        gas: whole(value, "gas"),
        maxFeePerGas: whole(value, "max_fee_per_gas"),
        maxPriorityFeePerGas: whole(value, "max_priority_fee_per_gas"),
      };
    default:
      return fail(`this wallet cannot sign a '${String(value.kind)}' request`);
  }
}

/** The checked request; RequestError (or the core's CoreError for a bad JWS) otherwise. */
export function openRequest(token: string, link: RequestLink, now: Date): WalletRequest {
  const checked = verify(token.trim(), REQUEST_TYP, { maxBytes: MAX_REQUEST_BYTES });
  const payload = checked.payload;
  const clientId = text(payload, "client_id");
  if (!clientId.startsWith(CLIENT_ID_PREFIX)) {
    fail(`this wallet answers DID verifiers only, not ${clientId}`);
  }
  const verifier = clientId.slice(CLIENT_ID_PREFIX.length);
  if (checked.did !== verifier) fail(`the request was signed by ${checked.did}, not ${clientId}`);
  if (link.clientId !== null && link.clientId !== clientId) {
    fail("the request names another client_id than its link");
  }
  const expires = payload.exp;
  if (typeof expires !== "number" || expires * 1000 <= now.getTime()) {
    fail("the request has expired; start again on the other screen");
  }
  const responseUri = text(payload, "response_uri");
  let origin: string;
  try {
    const response = new URL(responseUri);
    origin = response.origin;
    if (response.protocol !== "https:" && response.protocol !== "http:") throw new Error();
  } catch {
    return fail("the response_uri is not a web address");
  }
  if (origin !== new URL(link.requestUri).origin) {
    fail(`the request asks for the answer at ${origin}, another site than the one that served it`);
  }
  if (payload.response_mode !== "direct_post") {
    fail(`unsupported response mode ${String(payload.response_mode)}`);
  }
  const metadata = payload.client_metadata;
  const name =
    typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)
      ? metadata.client_name
      : undefined;
  const common: Common = {
    clientId,
    verifier,
    clientName: typeof name === "string" && name !== "" ? name : "(no name given)",
    responseUri,
    origin,
    nonce: text(payload, "nonce"),
    state: text(payload, "state"),
    expiresAt: new Date(expires * 1000),
  };
  if (payload.response_type === "vp_token") {
    const dcql = payload.dcql_query ?? null;
    try {
      parseQueries(dcql); // checked now, so that the page can rely on it
    } catch (error) {
      fail((error as Error).message);
    }
    return { ...common, kind: "signin", dcql };
  }
  if (payload.response_type === "kraken_signature") {
    return { ...common, kind: "signing", signing: signingRequest(payload.signing_request) };
  }
  return fail(`unsupported response type ${String(payload.response_type)}`);
}
