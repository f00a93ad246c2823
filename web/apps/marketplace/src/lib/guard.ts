import { ApiError } from "@kraken/api";
import type { QueryClient } from "@tanstack/react-query";
import { api, companiesQuery } from "./api";
import { forgetSignedIn, meQuery, reasonOf, sessionHint } from "./session";

// Runs in the browser. The one place that turns a 401 into the sign-in page: every
// query's and mutation's error passes here. An expired session token is renewed once by
// its refresh cookie (POST /auth/refresh) before giving up; a session the marketplace
// ended (a credential revoked) goes to /signin saying why, keeping the page to come
// back to.

export interface SignInTarget {
  next: string;
  /** the 401's code, or the refusal behind a `session_ended` */
  why: string;
  /** the company the session acted for, by name (the words say whose credential) */
  company?: string;
}

export type GoToSignIn = (target: SignInTarget) => void;

/** Calls the API's refresh once at a time; a refresh that failed is not retried until
 * the person signs in again. */
let refreshing: Promise<boolean> | null = null;
let refreshFailed = false;

async function refreshOnce(): Promise<boolean> {
  if (refreshFailed) return false;
  refreshing ??= api.POST("/api/v1/auth/refresh").then(
    () => true,
    () => {
      refreshFailed = true;
      return false;
    },
  );
  const renewed = await refreshing;
  refreshing = null;
  return renewed;
}

/** After a successful sign-in: a refresh may be tried again. */
export function sessionStarted(): void {
  refreshFailed = false;
}

/** The company's name from KCIT's identified companies (its DID if not listed). */
async function companyName(queryClient: QueryClient, did: string): Promise<string> {
  try {
    return (await queryClient.fetchQuery(companiesQuery)).get(did) ?? did;
  } catch {
    return did;
  }
}

export function makeGuard(queryClient: QueryClient, goToSignIn: GoToSignIn) {
  return async (error: unknown): Promise<void> => {
    if (!(error instanceof ApiError) || error.status !== 401) return;
    const hint = sessionHint();
    if (hint === null) return; // nobody was signed in here: nothing ended
    if (error.code === "session_invalid" && (await refreshOnce())) {
      await queryClient.invalidateQueries();
      return;
    }
    forgetSignedIn();
    queryClient.setQueryData(meQuery.queryKey, null);
    const company = hint.company ? await companyName(queryClient, hint.company) : undefined;
    const { pathname, search } = window.location;
    if (pathname.startsWith("/signin")) return;
    goToSignIn({ next: pathname + search, why: reasonOf(error), company });
  };
}
