import { ApiError, asApiError } from "@kraken/api";
import { type QueryClient, queryOptions, useQuery } from "@tanstack/react-query";
import { api } from "./api";
import type { Me } from "./types";

// Runs in the browser. Who is signed in: one query of /auth/me for the whole app. The
// session itself is an HttpOnly cookie the page never sees (docs/signin.md); the page
// keeps only a hint in localStorage that it signed someone in, so that an anonymous
// visitor's pages do not ask /auth/me (and log a 401) on every visit.

const HINT = "kraken.signed-in";

/** What the page remembers of its session: that there is one, and the DID of the
 * company it acts for (public), so that a 401 after a reload can still say whose
 * attorney credential ended it. */
export interface SessionHint {
  company: string | null;
}

export function rememberSignedIn(company: string | null = null): void {
  localStorage.setItem(HINT, JSON.stringify({ company }));
}

export function forgetSignedIn(): void {
  localStorage.removeItem(HINT);
}

export function sessionHint(): SessionHint | null {
  const text = localStorage.getItem(HINT);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { company?: unknown };
    return { company: typeof value.company === "string" ? value.company : null };
  } catch {
    return { company: null };
  }
}

export const meQuery = queryOptions({
  queryKey: ["me"],
  staleTime: 60_000,
  retry: false,
  queryFn: async ({ signal }): Promise<Me | null> => {
    if (sessionHint() === null) return null;
    const { data } = await api.GET("/api/v1/auth/me", { signal });
    if (data === undefined) return null;
    rememberSignedIn(data.company);
    return data;
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
