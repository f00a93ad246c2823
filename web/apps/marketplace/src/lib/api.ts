import { makeApi } from "@kraken/api";
import { infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import type { ProductSearch } from "../search/searchState";
import type { ChainView, Company, LineageGraph, Product, Revision, Token, Union } from "./types";
import type { Purpose } from "./words";

// Runs in the browser. The marketplace's reads of the API as query options (one cache,
// @tanstack/react-query): each takes the query's AbortSignal, so a request that went
// stale (the search text changed) is cancelled.

export const api = makeApi();

/** The body of a successful call (openapi-fetch leaves it optional; the client throws
 * `ApiError` on any failure before this). */
function body<T>(result: { data?: T }): T {
  if (result.data === undefined) throw new TypeError("the API answered without a body");
  return result.data;
}

export const tokenQuery = queryOptions({
  queryKey: ["token"],
  queryFn: async ({ signal }): Promise<Token> =>
    body(await api.GET("/api/v1/ledger/token", { signal })),
  staleTime: Number.POSITIVE_INFINITY,
  retry: false,
});

export const PAGE_SIZE = 12;

export function productsQuery(search: ProductSearch, priceUnits: { min?: string; max?: string }) {
  return infiniteQueryOptions({
    queryKey: ["products", search, priceUnits],
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page: { next_cursor: string | null }) => page.next_cursor ?? undefined,
    queryFn: async ({ pageParam, signal }) =>
      body(
        await api.GET("/api/v1/products", {
          signal,
          params: {
            query: {
              q: search.q || undefined,
              mode: search.mode,
              purpose: search.purpose,
              buyer_category: search.buyer_category,
              tag: search.tag,
              owner: search.owner || undefined,
              availability: search.availability,
              price_min: priceUnits.min,
              price_max: priceUnits.max,
              sort: search.sort,
              limit: PAGE_SIZE,
              cursor: pageParam,
            },
          },
        }),
      ),
  });
}

export function productQuery(id: string) {
  return queryOptions({
    queryKey: ["product", id],
    queryFn: async ({ signal }): Promise<Product> =>
      body(
        await api.GET("/api/v1/products/{product_id}", {
          signal,
          params: { path: { product_id: id } },
        }),
      ),
  });
}

export function chainQuery(id: string) {
  return queryOptions({
    queryKey: ["product", id, "chain"],
    queryFn: async ({ signal }) =>
      body(
        await api.GET("/api/v1/products/{product_id}/chain", {
          signal,
          params: { path: { product_id: id } },
        }),
      ) as unknown as ChainView,
    // a product waiting for the indexer is looked at again until the chain has it
    refetchInterval: (query) =>
      query.state.data?.publishing_announced && !query.state.data.published ? 3000 : false,
  });
}

export function historyQuery(id: string) {
  return queryOptions({
    queryKey: ["product", id, "history"],
    queryFn: async ({ signal }): Promise<Revision[]> =>
      body(
        await api.GET("/api/v1/products/{product_id}/history", {
          signal,
          params: { path: { product_id: id } },
        }),
      ),
  });
}

export function lineageQuery(id: string) {
  return queryOptions({
    queryKey: ["product", id, "lineage"],
    queryFn: async ({ signal }): Promise<LineageGraph> =>
      body(
        await api.GET("/api/v1/products/{product_id}/lineage", {
          signal,
          params: { path: { product_id: id } },
        }),
      ),
  });
}

export function unionsQuery(id: string) {
  return queryOptions({
    queryKey: ["product", id, "unions"],
    queryFn: async ({ signal }): Promise<Union[]> =>
      body(
        await api.GET("/api/v1/unions", { signal, params: { query: { member: id, limit: 100 } } }),
      ).items,
  });
}

/** Identified companies (KCIT) by DID: tells a company seller from a person without
 * asking for each owner (a person is not in the register). */
export const companiesQuery = queryOptions({
  queryKey: ["companies"],
  staleTime: 5 * 60_000,
  queryFn: async ({ signal }): Promise<Map<string, string>> => {
    const names = new Map<string, string>();
    let cursor: string | undefined;
    do {
      const page = body(
        await api.GET("/api/v1/companies", { signal, params: { query: { limit: 100, cursor } } }),
      );
      for (const company of page.items) names.set(company.did, company.legal_name);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return names;
  },
});

export function companyQuery(did: string) {
  return queryOptions({
    queryKey: ["company", did],
    queryFn: async ({ signal }): Promise<Company> =>
      body(await api.GET("/api/v1/companies/{did}", { signal, params: { path: { did } } })),
  });
}

/** Whether the signed-in person may buy the product for `purpose` (needs a session). */
export function eligibilityQuery(id: string, purpose: string) {
  return queryOptions({
    queryKey: ["product", id, "eligibility", purpose],
    queryFn: async ({ signal }) =>
      body(
        await api.GET("/api/v1/products/{product_id}/eligibility", {
          signal,
          params: { path: { product_id: id }, query: { purpose: purpose as Purpose } },
        }),
      ),
  });
}
