import type { components } from "@kraken/api";

// Runs in the browser. The catalog's closed vocabularies (catalog/vocabulary.py) and
// the chain's states in the marketplace's words, as people read them.

type Schemas = components["schemas"];
export type AccessMode = Schemas["AccessMode"];
export type Purpose = Schemas["Purpose"];
export type BuyerCategory = Schemas["BuyerCategory"];
export type Availability = Schemas["Availability"];
export type Sort = Schemas["Sort"];

export const MODES: readonly { id: AccessMode; name: string; what: string }[] = [
  { id: "batch", name: "File", what: "a file you download, paid per access" },
  { id: "stream", name: "Stream", what: "live data, paid per second of subscription" },
  {
    id: "analytics",
    name: "Analytics",
    what: "data you compute on without seeing it, paid per computation",
  },
];

export const PURPOSES: readonly { id: Purpose; name: string }[] = [
  { id: "research", name: "Research" },
  { id: "public-health", name: "Public health" },
  { id: "commercial", name: "Commercial use" },
  { id: "marketing", name: "Marketing" },
  { id: "education", name: "Education" },
];

export const BUYER_CATEGORIES: readonly { id: BuyerCategory; name: string }[] = [
  { id: "individual", name: "Individuals" },
  { id: "company", name: "Companies" },
  { id: "research-institution", name: "Research institutions" },
  { id: "public-body", name: "Public bodies" },
];

export const AVAILABILITIES: readonly { id: Availability; name: string }[] = [
  { id: "listed", name: "Listed (for sale)" },
  { id: "paused", name: "Paused" },
  { id: "retired", name: "Retired" },
];

export const SORTS: readonly { id: Sort; name: string }[] = [
  { id: "relevance", name: "Best match" },
  { id: "newest", name: "Newest first" },
  { id: "oldest", name: "Oldest first" },
  { id: "updated", name: "Recently updated" },
  { id: "price_asc", name: "Price, lowest first" },
  { id: "price_desc", name: "Price, highest first" },
  { id: "title", name: "Title, A to Z" },
];

const QUALITY: Record<string, string> = {
  unstaked: "Published without a stake (nothing at risk)",
  staked: "Stake locked: the seller loses it if a claim against the data is upheld",
  approving: "Approved by a buyer; the stake goes to the seller if no claim is filed in time",
  approved: "Approved by buyers; the stake went to the seller",
  disputed: "Disputed: a claim against the data is open",
  slashed: "Slashed: a claim was upheld and the stake went to the claimant",
};

const EVENTS: Record<string, string> = {
  ProductPublished: "Published on the chain",
  AvailabilityChanged: "Availability changed",
  OwnershipTransferred: "Ownership transferred",
  MetadataChanged: "Description changed",
  PolicyChanged: "Policy changed",
  PricesChanged: "Prices changed",
  StakeLocked: "Stake locked",
  StakeReleased: "Stake released",
  StakeReleaseScheduled: "Stake release scheduled",
  Approved: "Approved by a buyer",
  ClaimFiled: "Claim filed",
  ClaimRuled: "Claim ruled",
};

function nameIn<K extends string>(list: readonly { id: K; name: string }[], id: string): string {
  return list.find((entry) => entry.id === id)?.name ?? id;
}

export const modeName = (id: string) => nameIn(MODES, id);
export const purposeName = (id: string) => nameIn(PURPOSES, id);
export const buyerCategoryName = (id: string) => nameIn(BUYER_CATEGORIES, id);
export const availabilityName = (id: string) => nameIn(AVAILABILITIES, id);
export const qualityWords = (quality: string) => QUALITY[quality] ?? quality;
export const eventName = (name: string) => EVENTS[name] ?? name;

const GROUPS: Record<string, string> = { EU: "European Union", EEA: "European Economic Area" };
const countries = new Intl.DisplayNames(["en"], { type: "region", fallback: "code" });

/** A policy region (ISO 3166-1 alpha-2, EU or EEA) by its name. */
export function regionName(code: string): string {
  return GROUPS[code] ?? countries.of(code) ?? code;
}

/** "a, b and c" */
export function listInWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

const when = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});

/** A time from the API in words, in UTC (said so). */
export function timeInWords(iso: string): string {
  return `${when.format(new Date(iso))} UTC`;
}

const SECONDS: readonly [number, string][] = [
  [86_400, "day"],
  [3_600, "hour"],
  [60, "minute"],
  [1, "second"],
];

/** "30 days", "1 hour 30 minutes" */
export function durationInWords(seconds: number): string {
  const parts: string[] = [];
  let left = seconds;
  for (const [size, unit] of SECONDS) {
    const count = Math.floor(left / size);
    if (count > 0) parts.push(`${count} ${unit}${count === 1 ? "" : "s"}`);
    left -= count * size;
  }
  return parts.join(" ") || "0 seconds";
}

const ROLES: Record<string, string> = {
  admin: "Platform admin",
  arbiter: "Arbiter (rules on claims)",
};

export const roleName = (role: string) => ROLES[role] ?? role;
