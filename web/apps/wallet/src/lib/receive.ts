/**
 * Receiving credentials (runs in the browser, keys in memory):
 * - from the marketplace's demo issuer (`POST /api/v1/demo-issuer/credentials`), proving
 *   the DID with an `openid4vci-proof+jwt` (OpenID4VCI 1.0 §8.2.1: `aud` the
 *   marketplace, `iat` now, a fresh `nonce` from `POST /api/v1/auth/challenge`);
 * - from a company's Depute tool by an invitation link: the offer names the tool's
 *   audience and a nonce; the wallet presents its PersonCredential to exactly that
 *   tool (never to another audience the offer might name: a hostile server could
 *   otherwise get a presentation for the marketplace) and gets an AttorneyCredential,
 *   checked (signed by the inviting company, about this wallet's DID) before it is kept.
 */
import { makeApi } from "@kraken/api";
import { CoreError, present, type StoredCredential, sign, verifyCredential } from "@kraken/core";
import type { WalletKeys } from "@kraken/core/walletFile";
import { getJson, postJson } from "./http";
import type { InvitationLink } from "./links";
import { isExpired } from "./words";

export const PROOF_TYP = "openid4vci-proof+jwt";

export type DemoOffer =
  | { credential: "person"; claims: { name: string; email?: string; country?: string } }
  | {
      credential: "buyer_category";
      claims: {
        category: "individual" | "company" | "research-institution" | "public-body";
        organisation?: string;
      };
    };

/** The vc+jwt the demo issuer made for this wallet's DID. */
export async function receiveDemo(keys: WalletKeys, offer: DemoOffer): Promise<string> {
  const api = makeApi();
  const { data: challenge } = await api.POST("/api/v1/auth/challenge");
  if (challenge === undefined)
    throw new CoreError("server_error", "the marketplace gave no challenge");
  const proof = sign(
    keys.didKey,
    { aud: challenge.audience, iat: Math.floor(Date.now() / 1000), nonce: challenge.nonce },
    PROOF_TYP,
  );
  const { data } = await api.POST("/api/v1/demo-issuer/credentials", {
    body: { ...offer, proof },
  });
  if (data === undefined) throw new CoreError("server_error", "the demo issuer gave no credential");
  return data.credential;
}

export interface InvitationOffer {
  readonly company: string;
  readonly legal_name: string | null;
  readonly scope: string[];
  readonly roles: string[];
  readonly valid_days: number;
  readonly employee_did: string | null;
  readonly expires_at: string;
  readonly audience: string;
  readonly nonce: string;
}

function offerUrl(link: InvitationLink): string {
  return `${link.base}/api/invitations/${link.secret}`;
}

export async function openInvitation(link: InvitationLink): Promise<InvitationOffer> {
  const offer = await getJson<InvitationOffer>(offerUrl(link));
  if (offer.audience.replace(/\/+$/, "") !== link.base) {
    throw new CoreError(
      "wrong_audience",
      `the server at ${link.base} asks for a presentation to ${offer.audience}; the wallet signs only for the tool it talks to`,
    );
  }
  return offer;
}

/** The newest unexpired PersonCredential: what an invitation is accepted with. */
export function personCredential(held: readonly StoredCredential[], now: Date): StoredCredential {
  const persons = held.filter((c) => c.type === "PersonCredential" && !isExpired(c, now));
  const newest = persons[persons.length - 1];
  if (newest === undefined) {
    throw new CoreError(
      "nothing_to_present",
      "accepting an invitation needs a Person credential: get one first (Receive › Demo issuer)",
    );
  }
  return newest;
}

/** The AttorneyCredential the Depute tool issued for this acceptance, checked. */
export async function acceptInvitation(
  keys: WalletKeys,
  link: InvitationLink,
  offer: InvitationOffer,
  person: StoredCredential,
): Promise<string> {
  const presentation = present(keys.didKey, [person.token], {
    audience: link.base,
    nonce: offer.nonce,
  });
  const issued = await postJson<{ credential: string }>(`${offerUrl(link)}/accept`, {
    presentation,
  });
  const checked = verifyCredential(issued.credential, new Date());
  if (checked.type !== "AttorneyCredential" || checked.issuer !== offer.company) {
    throw new CoreError(
      "credential_invalid",
      "the Depute tool returned a credential that is not this invitation's attorney credential",
    );
  }
  return issued.credential;
}
