import { queryOptions } from "@tanstack/react-query";
import { api } from "../lib/api";
import type { AuditEntry, Claim, Company, CompanyStatus, Node } from "../lib/types";

// Runs in the browser. The admin pages' reads (each needs a platform role).

export function companiesByStatusQuery(status: CompanyStatus) {
  return queryOptions({
    queryKey: ["admin", "companies", status],
    queryFn: async ({ signal }): Promise<Company[]> => {
      const companies: Company[] = [];
      let cursor: string | undefined;
      do {
        const { data } = await api.GET("/api/v1/companies", {
          signal,
          params: { query: { status: [status], limit: 100, cursor } },
        });
        companies.push(...(data?.items ?? []));
        cursor = data?.next_cursor ?? undefined;
      } while (cursor !== undefined);
      return companies;
    },
  });
}

export function auditQuery(did: string) {
  return queryOptions({
    queryKey: ["admin", "audit", did],
    queryFn: async ({ signal }): Promise<AuditEntry[]> =>
      (await api.GET("/api/v1/companies/{did}/audit", { signal, params: { path: { did } } }))
        .data ?? [],
  });
}

/** Read again every 4 s: a ruling leaves the list once the indexer has its event. */
export const openClaimsQuery = queryOptions({
  queryKey: ["admin", "claims", "open"],
  refetchInterval: 4000,
  queryFn: async ({ signal }): Promise<Claim[]> => {
    const { data } = await api.GET("/api/v1/claims", {
      signal,
      params: { query: { status: "open" } },
    });
    return (data ?? []) as unknown as Claim[];
  },
});

export const nodesQuery = queryOptions({
  queryKey: ["admin", "nodes"],
  queryFn: async ({ signal }): Promise<Node[]> =>
    (await api.GET("/api/v1/ledger/nodes", { signal })).data ?? [],
});
