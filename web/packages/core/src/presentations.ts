/**
 * Credentials for display and login presentations, as
 * kraken_market/identity/credentials.py and presentations.py make them. Runs
 * anywhere (browser, worker, Node).
 *
 * A credential is a `vc+jwt` (W3C VC Data Model 2.0, secured per "Securing
 * Verifiable Credentials using JOSE and COSE" §3.1.1: the payload is the
 * credential). A login presentation is a `vp+jwt` (§3.2) signed by the
 * holder's DID key, with the credentials as EnvelopedVerifiableCredential
 * objects, bound to the verifier (`aud`) and one attempt (`nonce`), and
 * short-lived (`iat`/`exp`), with the claims in Python's order.
 */
import type { DidSigner } from "./did";
import { CoreError } from "./errors";
import { decode, type JsonObject, type JsonValue, sign, verify } from "./jose";

export const VC_CONTEXT = "https://www.w3.org/ns/credentials/v2";
export const VC_TYP = "vc+jwt";
export const VP_TYP = "vp+jwt";
export const ENVELOPE_PREFIX = "data:application/vc+jwt,";
const CLOCK_SKEW_SECONDS = 60;

/** A credential as the wallet lists it: the CLI wallet's StoredCredential, field for field. */
export interface StoredCredential {
  readonly id: string;
  readonly type: string;
  readonly issuer: string;
  readonly valid_until: string | null;
  readonly subject: JsonObject;
  readonly token: string;
}

export interface PresentOptions {
  readonly audience: string;
  readonly nonce: string;
  /** When the presentation is made (default: now). */
  readonly now?: Date;
  /** Seconds it stays valid: 120 by default, at most 600 (the verifier refuses more). */
  readonly lifetimeSeconds?: number;
}

/** The holder's signed `vp+jwt` of `credentials` (vc+jwt tokens) for one verifier. */
export function present(
  holder: DidSigner,
  credentials: readonly string[],
  options: PresentOptions,
): string {
  const issued = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const payload: JsonObject = {
    "@context": [VC_CONTEXT],
    type: ["VerifiablePresentation"],
    holder: holder.did,
    verifiableCredential: credentials.map((token) => ({
      "@context": [VC_CONTEXT],
      id: ENVELOPE_PREFIX + token,
      type: "EnvelopedVerifiableCredential",
    })),
    aud: options.audience,
    nonce: options.nonce,
    iat: issued,
    exp: issued + (options.lifetimeSeconds ?? 120),
  };
  return sign(holder, payload, VP_TYP);
}

/** RFC 3339 text as credentials.py's `timestamp(parse_time(...))` writes it: UTC, seconds, `Z`. */
export function timestamp(value: string | Date): string {
  const moment = typeof value === "string" ? new Date(value.toUpperCase()) : value;
  if (Number.isNaN(moment.getTime())) {
    throw new CoreError(
      "credential_invalid",
      `time '${String(value).slice(0, 40)}' is not a usable RFC 3339 date-time`,
    );
  }
  return `${moment.toISOString().slice(0, 19)}Z`;
}

function stored(payload: JsonObject, token: string): StoredCredential {
  const types = Array.isArray(payload.type) ? payload.type : [];
  const type = types.find(
    (t): t is string => typeof t === "string" && t !== "VerifiableCredential",
  );
  const issuer =
    typeof payload.issuer === "object" && payload.issuer !== null && !Array.isArray(payload.issuer)
      ? payload.issuer.id
      : payload.issuer;
  const subject = payload.credentialSubject;
  if (
    type === undefined ||
    typeof issuer !== "string" ||
    typeof subject !== "object" ||
    subject === null ||
    Array.isArray(subject)
  ) {
    throw new CoreError(
      "credential_invalid",
      "not a credential: it needs a type, an issuer and a subject",
    );
  }
  const { id: _id, ...rest } = subject;
  const until = payload.validUntil;
  return {
    id: String(payload.id ?? ""),
    type,
    issuer,
    valid_until: typeof until === "string" ? timestamp(until) : null,
    subject: rest,
    token,
  };
}

/** What a credential says, for display, WITHOUT checking its signature. */
export function describeCredential(token: string): StoredCredential {
  return stored(decode(token).payload, token);
}

/** The subject's DID of a credential (its `credentialSubject.id`), unverified. */
export function subjectOf(token: string): string | undefined {
  const subject = decode(token).payload.credentialSubject as JsonValue | undefined;
  const id =
    typeof subject === "object" && subject !== null && !Array.isArray(subject)
      ? subject.id
      : undefined;
  return typeof id === "string" ? id : undefined;
}

/**
 * A credential whose signature (by its issuer's did:key), issuer and validity
 * period are checked, as credentials.py's `verify` does; its JSON Schema is the
 * verifier's to check (the API does, at every login).
 */
export function verifyCredential(token: string, now: Date, maxBytes = 16_384): StoredCredential {
  const checked = verify(token, VC_TYP, { maxBytes });
  const credential = stored(checked.payload, token);
  if (credential.issuer !== checked.did) {
    throw new CoreError("invalid_signature", "the credential was not signed by its issuer", {
      issuer: credential.issuer,
      signer: checked.did,
    });
  }
  const seconds = now.getTime() / 1000;
  const from = checked.payload.validFrom;
  if (typeof from !== "string")
    throw new CoreError("credential_invalid", "the credential has no validFrom");
  if (new Date(timestamp(from)).getTime() / 1000 - seconds > CLOCK_SKEW_SECONDS) {
    throw new CoreError("credential_not_yet_valid", `the ${credential.type} is valid from ${from}`);
  }
  if (
    credential.valid_until !== null &&
    seconds - new Date(credential.valid_until).getTime() / 1000 > CLOCK_SKEW_SECONDS
  ) {
    throw new CoreError(
      "credential_expired",
      `the ${credential.type} expired at ${String(checked.payload.validUntil)}`,
    );
  }
  return credential;
}
