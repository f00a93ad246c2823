/**
 * Credentials in the marketplace's words (pure code: browser and Vitest). The same
 * words on the list, the details page and the "what will be shared" list of a request.
 */
import type { JsonValue, StoredCredential } from "@kraken/core";

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function record(value: JsonValue | undefined): Record<string, JsonValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
}

/** "research-institution" → "research institution". */
export function spaced(value: string): string {
  return value.replace(/[-_]+/g, " ");
}

/** A company's name from an AttorneyCredential: its legal name, else its DID. */
export function companyOf(credential: StoredCredential): { id: string; name: string } {
  const company = record(credential.subject.company);
  const id = text(company.id) ?? "an unknown company";
  return { id, name: text(company.legalName) ?? id };
}

/** What the credential says it is: "Person", "Attorney for Acme Ltd", "Platform role: admin", … */
export function credentialTitle(credential: StoredCredential): string {
  const subject = credential.subject;
  switch (credential.type) {
    case "PersonCredential":
      return "Person";
    case "AttorneyCredential":
      return `Attorney for ${companyOf(credential).name}`;
    case "PlatformRoleCredential":
      return `Platform role: ${spaced(text(subject.role) ?? "unknown")}`;
    case "BuyerCategoryCredential":
      return `Buyer category: ${spaced(text(subject.category) ?? "unknown")}`;
    case "OrganisationCredential":
      return "Organisation";
    default:
      return spaced(credential.type.replace(/Credential$/, ""));
  }
}

/** The subject's name where the credential carries one (people's and organisations'). */
export function subjectName(credential: StoredCredential): string | undefined {
  const subject = credential.subject;
  return text(subject.name) ?? text(subject.legalName) ?? text(subject.organisation);
}

/** What tells two credentials of one kind apart: an attorney's powers, and the validity. */
export function credentialDetail(credential: StoredCredential, now: Date): string {
  const scope = credential.subject.scope;
  const powers = Array.isArray(scope)
    ? `may ${scope.filter((s): s is string => typeof s === "string").join(", ")}; `
    : "";
  return `${powers}${validity(credential, now).toLowerCase()}`;
}

export function isExpired(credential: StoredCredential, now: Date): boolean {
  return credential.valid_until !== null && new Date(credential.valid_until) <= now;
}

/** "7 December 2026, 03:00 UTC" (the wallet shows times in UTC, as the credential states them). */
export function when(iso: string): string {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  const date = moment.toLocaleDateString("en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });
  const time = moment.toISOString().slice(11, 16);
  return `${date}, ${time} UTC`;
}

export function validity(credential: StoredCredential, now: Date): string {
  if (credential.valid_until === null) return "No end date";
  const until = when(credential.valid_until);
  return isExpired(credential, now) ? `Expired on ${until}` : `Valid until ${until}`;
}

/** A long DID shortened for a list line; the details page shows it in full. */
export function shortDid(did: string): string {
  return did.length > 28 ? `${did.slice(0, 18)}…${did.slice(-6)}` : did;
}

/** Every claim of the subject as label/value lines, for the details page. */
export function claimLines(credential: StoredCredential): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  const walk = (prefix: string, value: JsonValue): void => {
    if (Array.isArray(value)) {
      lines.push([
        prefix,
        value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", "),
      ]);
    } else if (typeof value === "object" && value !== null) {
      for (const [key, inner] of Object.entries(value))
        walk(prefix ? `${prefix} › ${key}` : key, inner);
    } else {
      lines.push([prefix, String(value)]);
    }
  };
  walk("", credential.subject);
  return lines;
}
