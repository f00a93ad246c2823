import {
  type AccessMode,
  AVAILABILITIES,
  type Availability,
  BUYER_CATEGORIES,
  type BuyerCategory,
  MODES,
  PURPOSES,
  type Purpose,
  SORTS,
  type Sort,
} from "../lib/words";

// Runs in the browser. The search as the page's URL query string holds it, so a search
// can be shared, reloaded and stepped back through: `?q=heart&mode=analytics&tag=ecg`.
// Prices are in tokens as typed ("1.5"), turned into base units when asked for.

/** The search of the page, every part optional (absent: no such filter). */
export interface ProductSearch {
  q?: string;
  mode?: AccessMode;
  purpose?: Purpose;
  buyer_category?: BuyerCategory;
  tag?: string[];
  owner?: string;
  availability?: Availability[];
  price_min?: string;
  price_max?: string;
  sort?: Sort;
}

export type RawSearch = Record<string, unknown>;

function text(value: unknown): string {
  if (Array.isArray(value)) return text(value[0]);
  return typeof value === "string" ? value : "";
}

function texts(value: unknown): string[] {
  if (Array.isArray(value))
    return value.filter((v): v is string => typeof v === "string" && v !== "");
  return typeof value === "string" && value !== "" ? [value] : [];
}

function oneOf<K extends string>(list: readonly { id: K }[], value: unknown): K | undefined {
  const wanted = text(value);
  return list.find((entry) => entry.id === wanted)?.id;
}

/** The search of a URL's query (unknown values are dropped, not guessed at). */
export function parseProductSearch(raw: RawSearch): ProductSearch {
  return compactSearch({
    q: text(raw.q).slice(0, 200),
    mode: oneOf(MODES, raw.mode),
    purpose: oneOf(PURPOSES, raw.purpose),
    buyer_category: oneOf(BUYER_CATEGORIES, raw.buyer_category),
    tag: texts(raw.tag),
    owner: text(raw.owner),
    availability: texts(raw.availability).filter((a): a is Availability =>
      AVAILABILITIES.some((entry) => entry.id === a),
    ),
    price_min: text(raw.price_min),
    price_max: text(raw.price_max),
    sort: oneOf(SORTS, raw.sort),
  });
}

/** Only what differs from "no filter", so that URLs stay short. */
export function compactSearch(search: ProductSearch): ProductSearch {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(search)) {
    if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0))
      continue;
    out[key] = value;
  }
  return out as ProductSearch;
}

/** The query string of a route's search: plain `a=1&b=2&b=3` (not JSON), in key order. */
export function stringifySearch(search: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(search)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") params.append(key, String(item));
    }
  }
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function parseSearch(query: string): RawSearch {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    const seen = out[key];
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/** What the results are asked for while `text` is in the search box: the text trimmed,
 * and "best match" dropped without words to match (the API refuses that order then). */
export function liveSearch(search: ProductSearch, text: string): ProductSearch {
  const typed = text.trim();
  return compactSearch({
    ...search,
    q: typed,
    sort: !typed && search.sort === "relevance" ? undefined : search.sort,
  });
}

/** The first page of results a visit to `location` shows, when it can be asked for before
 * the page renders: prices typed in the URL need the token's decimals first. */
export function firstResultsOf(location: { pathname: string; search: string }) {
  if (location.pathname !== "/") return null;
  const search = parseProductSearch(parseSearch(location.search));
  if (search.price_min || search.price_max) return null;
  return liveSearch(search, search.q ?? "");
}
