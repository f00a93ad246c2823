/**
 * The binding of a DID to a ledger account, signed by both keys, exactly as
 * kraken_market/identity/binding.py's `bind`: the DID key signs a
 * `kraken-binding+jwt` naming the account (claims did, account, aud, iat and
 * an optional service, in that order), and the account signs that JWS text
 * with EIP-191 personal_sign. `POST /api/v1/identity/bindings` takes
 * `{binding: jws, account_signature}` within 600 s of `iat`. Runs anywhere.
 */
import type { DidSigner } from "./did";
import { type PrivateKeyAccount, personalSign } from "./eth";
import { type JsonObject, sign } from "./jose";

export const BINDING_TYP = "kraken-binding+jwt";

export interface Binding {
  readonly did: string;
  readonly account: string;
  /** The DID key's kraken-binding+jwt. */
  readonly jws: string;
  /** The account's personal_sign over `jws`, 0x hex (65 bytes). */
  readonly account_signature: string;
  readonly service: string | null;
}

export interface BindOptions {
  /** The marketplace's audience (its public URL, as the API's settings name it). */
  readonly audience: string;
  readonly now?: Date;
  /** Where the DID's holder takes requests (a company's Depute tool). */
  readonly service?: string;
}

export async function bind(
  didKey: DidSigner,
  account: PrivateKeyAccount,
  options: BindOptions,
): Promise<Binding> {
  const payload: JsonObject = {
    did: didKey.did,
    account: account.address,
    aud: options.audience,
    iat: Math.floor((options.now ?? new Date()).getTime() / 1000),
  };
  if (options.service !== undefined) payload.service = options.service;
  const jws = sign(didKey, payload, BINDING_TYP);
  return {
    did: didKey.did,
    account: account.address,
    jws,
    account_signature: await personalSign(account, jws),
    service: options.service ?? null,
  };
}

/** The body of POST /api/v1/identity/bindings for `binding`. */
export function bindingRequest(binding: Binding): { binding: string; account_signature: string } {
  return { binding: binding.jws, account_signature: binding.account_signature };
}
