/**
 * What a pasted or scanned text asks of the wallet (pure code: runs in the browser's
 * main thread and in the Vitest tests).
 *
 * Three kinds of link reach the wallet:
 * - a sign-in or signing request, OpenID4VP 1.0 §5.7 "by reference": the QR code's
 *   `openid4vp://?client_id=…&request_uri=…`, the same-device link
 *   `<marketplace>/wallet/request?client_id=…&request_uri=…`, or a bare `request_uri`
 *   when nothing else matches and it has a request's path;
 * - a Depute tool's invitation, `<depute>/invitations/<secret>` (the link is the
 *   credential: whoever holds it may accept it once).
 */

export interface RequestLink {
  readonly kind: "request";
  readonly requestUri: string;
  /** The client_id the link names; null for a bare request_uri. */
  readonly clientId: string | null;
}

export interface InvitationLink {
  readonly kind: "invitation";
  /** The Depute tool's base URL (its audience). */
  readonly base: string;
  readonly secret: string;
}

export type WalletLink = RequestLink | InvitationLink;

export class LinkError extends Error {
  override readonly name = "LinkError";
}

const SECRET = /^[A-Za-z0-9_-]{16,64}$/;
const INVITATION_PATH = "/invitations/";
const REQUEST_PATH = /\/(?:api\/v1\/auth\/requests|api\/signin\/requests)\/[A-Za-z0-9_-]+$/;

function webUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LinkError(`the ${what} is not a web address`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new LinkError(`the ${what} is not a web address (http or https)`);
  }
  return url;
}

/** The query of an `openid4vp://?…` text or any URL (the URL parser would not split a custom scheme's query the same everywhere). */
function queryOf(text: string): URLSearchParams | null {
  const mark = text.indexOf("?");
  if (mark < 0) return null;
  const hash = text.indexOf("#", mark);
  return new URLSearchParams(text.slice(mark + 1, hash < 0 ? undefined : hash));
}

export function parseRequestLink(input: string): RequestLink {
  const text = input.trim();
  const query = queryOf(text);
  const requestUri = query?.get("request_uri");
  if (requestUri) {
    webUrl(requestUri, "request_uri");
    return { kind: "request", requestUri, clientId: query?.get("client_id") || null };
  }
  if (/^https?:\/\//i.test(text) && REQUEST_PATH.test(webUrl(text, "link").pathname)) {
    return { kind: "request", requestUri: text, clientId: null };
  }
  throw new LinkError(
    "this is not a sign-in request: expected the QR code's openid4vp://… text, a …/wallet/request?… link or a request_uri",
  );
}

export function parseInvitationLink(input: string): InvitationLink {
  const url = webUrl(input.trim(), "invitation link");
  const at = url.pathname.lastIndexOf(INVITATION_PATH);
  const secret = at < 0 ? "" : url.pathname.slice(at + INVITATION_PATH.length);
  if (at < 0 || !SECRET.test(secret)) {
    throw new LinkError("this is not a Depute invitation link (…/invitations/<code>)");
  }
  const base = `${url.origin}${url.pathname.slice(0, at)}`.replace(/\/+$/, "");
  return { kind: "invitation", base, secret };
}

/** A scanned or pasted text, as the link it is; LinkError when it is neither kind. */
export function parseWalletLink(input: string): WalletLink {
  const text = input.trim();
  if (text.toLowerCase().startsWith("openid4vp:") || /[?&]request_uri=/.test(text)) {
    return parseRequestLink(text);
  }
  if (text.includes(INVITATION_PATH)) return parseInvitationLink(text);
  try {
    return parseRequestLink(text);
  } catch {
    throw new LinkError(
      "this is neither a sign-in request (openid4vp://…, …/wallet/request?…) nor a Depute invitation link (…/invitations/…)",
    );
  }
}

/** The origin of a web address, as the page shows it ("https://market.example"). */
export function originOf(url: string): string {
  return new URL(url).origin;
}
