import { ApiError, asApiError } from "@kraken/api";
import { type QueryClient, queryOptions, useQuery } from "@tanstack/react-query";
import { api } from "./api";
import type { Me } from "./types";

// Runs in the browser. Who is signed in: one query of /auth/me for the whole app. The
// session itself is an HttpOnly cookie the page never sees (docs/signin.md); the page
// keeps only a hint in localStorage that it signed someone in, so that an anonymous
// visitor's pages do not ask /auth/me (and log a 401) on every visit.

const HINT = "kraken.signed-in";

export function rememberSignedIn(): void {
  localStorage.setItem(HINT, "1");
}

export function forgetSignedIn(): void {
  localStorage.removeItem(HINT);
}

function mayBeSignedIn(): boolean {
  return localStorage.getItem(HINT) === "1";
}

export const meQuery = queryOptions({
  queryKey: ["me"],
  staleTime: 60_000,
  retry: false,
  queryFn: async ({ signal }): Promise<Me | null> => {
    if (!mayBeSignedIn()) return null;
    const { data } = await api.GET("/api/v1/auth/me", { signal });
    return data ?? null;
  },
});

/** The signed-in person (null: nobody; undefined: not known yet). */
export function useMe(): Me | null | undefined {
  return useQuery(meQuery).data;
}

/** Ends the session (both cookies cleared by the API) and forgets it here. */
export async function signOut(queryClient: QueryClient): Promise<void> {
  try {
    await api.POST("/api/v1/auth/logout");
  } finally {
    forgetSignedIn();
    queryClient.setQueryData(meQuery.queryKey, null);
    queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== "me" });
  }
}

/** Why a session ended, in words, from the 401 that said so (`session_ended` carries the
 * refusal's code in `details.reason`; a sensitive request meets the refusal itself). */
export function whySignedOut(code: string, reason: string, company: string | null): string {
  const what = reason || code;
  const credential = company
    ? `Your attorney credential for ${company}`
    : "One of your credentials";
  if (what === "credential_revoked") return `${credential} was revoked, so you were signed out.`;
  if (what === "credential_expired") return `${credential} expired, so you were signed out.`;
  if (what === "company_not_identified") {
    return `${company ?? "Your company"} is no longer identified in the register, so you were signed out.`;
  }
  return "Your session ended. Sign in again.";
}

/** What the sign-in page is told by the 401 that sent the person there. */
export function reasonOf(error: ApiError): string {
  return error.code === "session_ended" && typeof error.details.reason === "string"
    ? error.details.reason
    : error.code;
}

export { ApiError, asApiError };
