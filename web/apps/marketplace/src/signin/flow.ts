import { ApiError } from "@kraken/api";
import type { QueryClient } from "@tanstack/react-query";
import type { AnyRouter } from "@tanstack/react-router";
import { api } from "../lib/api";
import { sessionStarted } from "../lib/guard";
import { meQuery, rememberSignedIn } from "../lib/session";
import type { SigninResult } from "../lib/types";

// Runs in the browser. The page's side of OpenID4VP sign-in (docs/signin.md): start a
// request, learn its result with the transaction id only this page knows. A
// same-device sign-in leaves the transaction id in sessionStorage for /signin/complete
// (the same origin and tab), never in a URL.

const PENDING = "kraken.signin";

export interface Started {
  transaction_id: string;
  wallet_url: string;
  expires_at: string;
}

export async function startSignIn(
  flow: "cross_device" | "same_device",
  actFor: string | null,
): Promise<Started> {
  const { data } = await api.POST("/api/v1/auth/requests", { body: { flow, act_for: actFor } });
  if (data === undefined) throw new TypeError("the API answered without a body");
  return data;
}

export async function resultOf(
  transactionId: string,
  responseCode?: string,
): Promise<SigninResult> {
  const { data } = await api.POST("/api/v1/auth/requests/result", {
    body: { transaction_id: transactionId, response_code: responseCode ?? null, deliver: "cookie" },
  });
  if (data === undefined) throw new TypeError("the API answered without a body");
  return data;
}

/** A refusal of the wallet's answer as an error the page puts in words. */
export function refusalOf(result: SigninResult): ApiError {
  return new ApiError(401, { code: result.code ?? "refused", message: result.message ?? "" });
}

/** After `signed_in`: the session is in the cookies; the app asks who it is. */
export async function signedIn(queryClient: QueryClient): Promise<void> {
  rememberSignedIn();
  sessionStarted();
  await queryClient.invalidateQueries({ queryKey: meQuery.queryKey });
}

/** The header names the person as soon as the session is known, before the page goes
 * back to where they came from: one who clicked elsewhere in that moment has moved on,
 * and going back would undo their click. */
export function stillSigningIn(router: AnyRouter): boolean {
  return router.latestLocation.pathname.startsWith("/signin");
}

/** Only a path of this site is a place to come back to (never another origin). */
export function safeNext(next: string | undefined): string {
  return next?.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin")
    ? next
    : "/";
}

export function keepPending(transactionId: string, next: string): void {
  sessionStorage.setItem(PENDING, JSON.stringify({ transactionId, next }));
}

/** The same-device sign-in this tab started, taken (read once, then forgotten). */
export function takePending(): { transactionId: string; next: string } | null {
  const text = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as { transactionId?: unknown; next?: unknown };
    if (typeof value.transactionId !== "string") return null;
    return { transactionId: value.transactionId, next: safeNext(String(value.next ?? "/")) };
  } catch {
    return null;
  }
}
