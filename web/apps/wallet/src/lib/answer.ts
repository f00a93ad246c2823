/**
 * The wallet's answers to a checked request (runs in the browser, keys in memory):
 * sign-in — one `vp+jwt` per credential, `aud` the request's client_id, `nonce` its
 * nonce (OpenID4VP 1.0 Appendix B.1.3.1), posted as `vp_token` JSON + `state` by
 * `direct_post`; signing (`bind_account`) — the DID–account binding (core `bind`)
 * posted as `binding` + `account_signature` + `state`; a transaction — checked and read
 * by the wallet itself against its own marketplace (pages/signing.ts `readTransaction`:
 * refused when another origin asks), signed as EIP-1559 (core
 * `signTransaction`, viem) and posted raw as `transaction` (the marketplace broadcasts
 * it); a message — EIP-191 personal_sign of its UTF-8 text, posted as `signature`; declining — `error=access_denied`
 * + `state` (§8.5), so the waiting page says so instead of waiting for expiry.
 */

import { present, type StoredCredential } from "@kraken/core";
import { bind } from "@kraken/core/binding";
import { type Hex, personalSign, signTransaction } from "@kraken/core/eth";
import type { WalletKeys } from "@kraken/core/walletFile";
import { type Marketplace, readTransaction } from "../pages/signing";
import { getText, postForm } from "./http";
import type { RequestLink } from "./links";
import { openRequest, REQUEST_MEDIA_TYPE, type WalletRequest } from "./request";

/** How an answer is posted: `postForm` in the app; tests pass a recorder. */
export type Poster = (
  url: string,
  fields: Record<string, string>,
) => Promise<Record<string, unknown>>;

export async function fetchRequest(link: RequestLink, now = new Date()): Promise<WalletRequest> {
  return openRequest(await getText(link.requestUri, REQUEST_MEDIA_TYPE), link, now);
}

/** Where the verifier sends the browser next (same-device), if anywhere. */
export interface Answered {
  readonly redirectUri: string | null;
}

function answered(reply: Record<string, unknown>): Answered {
  return { redirectUri: typeof reply.redirect_uri === "string" ? reply.redirect_uri : null };
}

export function vpToken(
  keys: WalletKeys,
  request: WalletRequest,
  chosen: ReadonlyMap<string, readonly StoredCredential[]>,
  now = new Date(),
): Record<string, string[]> {
  const token: Record<string, string[]> = {};
  for (const [id, credentials] of chosen) {
    token[id] = credentials.map((c) =>
      present(keys.didKey, [c.token], { audience: request.clientId, nonce: request.nonce, now }),
    );
  }
  return token;
}

export async function answerSignin(
  keys: WalletKeys,
  request: WalletRequest,
  chosen: ReadonlyMap<string, readonly StoredCredential[]>,
  post: Poster = postForm,
): Promise<Answered> {
  const form = { vp_token: JSON.stringify(vpToken(keys, request, chosen)), state: request.state };
  return answered(await post(request.responseUri, form));
}

export class SigningRefused extends Error {
  override readonly name = "SigningRefused";
  readonly code = "wrong_identity";
}

export async function answerBinding(
  keys: WalletKeys,
  request: WalletRequest,
  post: Poster = postForm,
): Promise<Answered> {
  if (request.kind !== "signing" || request.signing.kind !== "bind_account") {
    throw new SigningRefused("this wallet signs only account links (bind_account) for now");
  }
  if (request.signing.did !== keys.didKey.did) {
    throw new SigningRefused(
      `the request is for the identity ${request.signing.did}, and this wallet holds ${keys.didKey.did}`,
    );
  }
  const binding = await bind(keys.didKey, keys.account, { audience: request.signing.audience });
  const form = {
    state: request.state,
    binding: binding.jws,
    account_signature: binding.account_signature,
  };
  return answered(await post(request.responseUri, form));
}

function checkIdentity(keys: WalletKeys, did: string): void {
  if (did !== keys.didKey.did) {
    throw new SigningRefused(
      `the request is for the identity ${did}, and this wallet holds ${keys.didKey.did}`,
    );
  }
}

/** Sign the transaction the request states, once the wallet has read and checked it. */
export async function answerTransaction(
  keys: WalletKeys,
  request: WalletRequest,
  marketplace: Marketplace,
  post: Poster = postForm,
): Promise<Answered & { readonly transactionHash: Hex }> {
  if (request.kind !== "signing" || request.signing.kind !== "transaction") {
    throw new SigningRefused("this is not a transaction request");
  }
  const asked = request.signing;
  checkIdentity(keys, asked.did);
  const read = readTransaction(asked, request.origin, marketplace, keys.account.address);
  if (!read.ok) throw new SigningRefused(read.problem);
  const { raw, hash } = await signTransaction(keys.account, {
    chainId: asked.chainId,
    nonce: asked.nonce,
    to: read.address as Hex,
    data: asked.data as Hex,
    value: 0n,
    gas: asked.gas,
    maxFeePerGas: asked.maxFeePerGas,
    maxPriorityFeePerGas: asked.maxPriorityFeePerGas,
  });
  const reply = await post(request.responseUri, { state: request.state, transaction: raw });
  return { ...answered(reply), transactionHash: hash };
}

/** EIP-191 personal_sign of the message's text with the wallet's account. */
export async function answerMessage(
  keys: WalletKeys,
  request: WalletRequest,
  post: Poster = postForm,
): Promise<Answered> {
  if (request.kind !== "signing" || request.signing.kind !== "message") {
    throw new SigningRefused("this is not a message request");
  }
  const asked = request.signing;
  checkIdentity(keys, asked.did);
  if (asked.account.toLowerCase() !== keys.account.address.toLowerCase()) {
    throw new SigningRefused(
      `the message is to be signed by ${asked.account}, and this wallet's account is ${keys.account.address}`,
    );
  }
  const signature = await personalSign(keys.account, asked.text);
  return answered(await post(request.responseUri, { state: request.state, signature }));
}

export async function decline(request: WalletRequest, post: Poster = postForm): Promise<Answered> {
  return answered(
    await post(request.responseUri, { error: "access_denied", state: request.state }),
  );
}
