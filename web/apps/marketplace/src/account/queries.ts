import { queryOptions } from "@tanstack/react-query";
import { api } from "../lib/api";
import type { Product, SessionSummary } from "../lib/types";

// Runs in the browser. The reads of the account page.

export const sessionsQuery = queryOptions({
  queryKey: ["me", "sessions"],
  queryFn: async ({ signal }): Promise<SessionSummary[]> =>
    (await api.GET("/api/v1/auth/sessions", { signal })).data ?? [],
});

export function balanceQuery(account: string) {
  return queryOptions({
    queryKey: ["balance", account],
    queryFn: async ({ signal }): Promise<string> => {
      const { data } = await api.GET("/api/v1/ledger/balances/{account}", {
        signal,
        params: { path: { account } },
      });
      return data?.balance ?? "0";
    },
  });
}

/** Every product of `owner` (listed, paused and retired), newest first. */
export function ownProductsQuery(owner: string) {
  return queryOptions({
    queryKey: ["products", "own", owner],
    queryFn: async ({ signal }): Promise<Product[]> => {
      const products: Product[] = [];
      let cursor: string | undefined;
      do {
        const { data } = await api.GET("/api/v1/products", {
          signal,
          params: {
            query: {
              owner,
              availability: ["listed", "paused", "retired"],
              sort: "newest",
              limit: 100,
              cursor,
            },
          },
        });
        products.push(...(data?.items ?? []));
        cursor = data?.next_cursor ?? undefined;
      } while (cursor !== undefined);
      return products;
    },
  });
}
