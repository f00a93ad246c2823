/**
 * Which held credentials answer a request's DCQL query (OpenID4VP 1.0 §6: credential
 * queries with `meta.type_values` and value-constrained `claims`, `multiple`,
 * `credential_sets` for required and optional ones). Pure code (browser, Vitest);
 * the same rules as the CLI wallet (identity/openid4vp_wallet.py `select`): the
 * newest match by default, all of them for `multiple`, optional queries nothing
 * matches left out. Unlike the CLI, the page lets the person pick another match of
 * a single-credential query (the company, when several attorney credentials fit).
 */
import type { JsonObject, JsonValue, StoredCredential } from "@kraken/core";
import { isExpired } from "./words";

export const FORMAT = "jwt_vc_json";

export interface CredentialQuery {
  readonly id: string;
  readonly format: string;
  readonly multiple: boolean;
  readonly typeValues: readonly (readonly string[])[];
  readonly claims: readonly { path: readonly JsonValue[]; values: readonly JsonValue[] | null }[];
}

export interface QueryMatch {
  readonly query: CredentialQuery;
  readonly required: boolean;
  /** Unexpired credentials that fit, in the order the wallet received them. */
  readonly matching: readonly StoredCredential[];
}

export class DcqlError extends Error {
  override readonly name = "DcqlError";
  constructor(
    readonly code: "nothing_to_present" | "request_object_invalid",
    message: string,
  ) {
    super(message);
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strings(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

export function parseQueries(dcql: JsonValue | undefined): CredentialQuery[] {
  if (!isObject(dcql) || !Array.isArray(dcql.credentials)) {
    throw new DcqlError("request_object_invalid", "the request carries no DCQL query");
  }
  return dcql.credentials.filter(isObject).map((q) => {
    const meta = isObject(q.meta) ? q.meta : {};
    const typeValues = Array.isArray(meta.type_values) ? meta.type_values.map(strings) : [];
    const claims = (Array.isArray(q.claims) ? q.claims : []).filter(isObject).map((c) => ({
      path: Array.isArray(c.path) ? c.path : [],
      values: Array.isArray(c.values) ? c.values : null,
    }));
    return {
      id: String(q.id),
      format: String(q.format),
      multiple: q.multiple === true,
      typeValues,
      claims,
    };
  });
}

/** The ids of the queries a answer must satisfy (the first option of each required set). */
export function requiredIds(
  dcql: JsonValue | undefined,
  queries: readonly CredentialQuery[],
): Set<string> {
  const sets = isObject(dcql) ? dcql.credential_sets : undefined;
  if (!Array.isArray(sets)) return new Set(queries.map((q) => q.id));
  const required = new Set<string>();
  for (const entry of sets) {
    if (!isObject(entry) || entry.required === false || !Array.isArray(entry.options)) continue;
    for (const id of strings(entry.options[0])) required.add(id);
  }
  return required;
}

function typesMatch(query: CredentialQuery, credential: StoredCredential): boolean {
  const held = new Set(["VerifiableCredential", credential.type]);
  return query.typeValues.some((alternative) => alternative.every((t) => held.has(t)));
}

function claimsMatch(query: CredentialQuery, credential: StoredCredential): boolean {
  for (const { path, values } of query.claims) {
    if (path[0] !== "credentialSubject" || values === null) continue;
    let value: JsonValue | undefined = credential.subject;
    for (const step of path.slice(1)) {
      value = isObject(value) && typeof step === "string" ? value[step] : undefined;
    }
    if (!values.some((v) => v === value)) return false;
  }
  return true;
}

/** Per query of our format: whether it is required and which credentials fit. */
export function matchQuery(
  dcql: JsonValue | undefined,
  held: readonly StoredCredential[],
  now: Date,
): QueryMatch[] {
  const queries = parseQueries(dcql).filter((q) => q.format === FORMAT);
  const required = requiredIds(dcql, queries);
  return queries.map((query) => ({
    query,
    required: required.has(query.id),
    matching: held.filter(
      (c) => !isExpired(c, now) && typesMatch(query, c) && claimsMatch(query, c),
    ),
  }));
}

/** The required queries nothing in the wallet fits (the wallet cannot answer then). */
export function missing(matches: readonly QueryMatch[]): QueryMatch[] {
  return matches.filter((m) => m.required && m.matching.length === 0);
}

/**
 * What to share: per query id, the credentials. `picks` holds the person's choice for
 * single-credential queries (a credential id); otherwise the newest match.
 */
export function chooseCredentials(
  matches: readonly QueryMatch[],
  picks: Readonly<Record<string, string>> = {},
): Map<string, StoredCredential[]> {
  const gap = missing(matches)[0];
  if (gap !== undefined) {
    throw new DcqlError(
      "nothing_to_present",
      `the request needs a credential your wallet does not hold (${gap.query.id})`,
    );
  }
  const chosen = new Map<string, StoredCredential[]>();
  for (const { query, matching } of matches) {
    if (matching.length === 0) continue;
    if (query.multiple) {
      chosen.set(query.id, [...matching]);
      continue;
    }
    const picked = matching.find((c) => c.id === picks[query.id]) ?? matching[matching.length - 1];
    if (picked !== undefined) chosen.set(query.id, [picked]);
  }
  return chosen;
}
