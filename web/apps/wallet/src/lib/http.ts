/**
 * Calls to other parties than the marketplace's typed API (runs in the browser): the
 * verifier that sent a request (the marketplace, or a Depute tool on another origin)
 * and a Depute tool's invitations. Errors come back as ApiError with the server's
 * `code` and `message` ({code, message, details} on both servers).
 */
import { ApiError, errorOf, hasMessage, messageFor } from "@kraken/api";

export { ApiError };

async function send(url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    // No cookies: an answer or an invitation stands on what the wallet signs.
    response = await fetch(url, { ...init, credentials: "omit", mode: "cors", cache: "no-store" });
  } catch {
    throw new ApiError(0, {
      code: "unreachable",
      message: `cannot reach ${new URL(url).origin} (offline, or it does not let this page call it)`,
    });
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function getText(url: string, accept: string): Promise<string> {
  return (await send(url, { headers: { Accept: accept } })).text();
}

export async function getJson<T>(url: string): Promise<T> {
  return (await (await send(url, { headers: { Accept: "application/json" } })).json()) as T;
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await send(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as T;
}

/** A form post (OpenID4VP `direct_post`, §8.2: application/x-www-form-urlencoded). */
export async function postForm(
  url: string,
  fields: Record<string, string>,
): Promise<Record<string, unknown>> {
  const response = await send(url, {
    method: "POST",
    headers: { Accept: "application/json" },
    body: new URLSearchParams(fields),
  });
  const text = await response.text();
  if (text === "") return {};
  const value: unknown = JSON.parse(text);
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/** Codes whose local message says more than the marketplace's general words. */
const OWN_DETAIL = new Set(["request_object_invalid", "wallet_invalid", "invalid_did"]);

/**
 * Words for any failure: the marketplace's words for a code it knows (`messageFor`),
 * else the server's or the wallet's own message.
 */
export function messageOf(error: unknown): string {
  const code = codeOf(error);
  if (error instanceof ApiError) return hasMessage(error.code) ? messageFor(error) : error.message;
  if (code !== undefined && hasMessage(code) && !OWN_DETAIL.has(code)) {
    return messageFor(new ApiError(0, { code, message: String((error as Error).message) }));
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export function codeOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
