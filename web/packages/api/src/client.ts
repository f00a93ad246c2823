import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

/** The API's error body: `code` is stable, `message` is for people, `details` for programs. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown> | null;
}

/** A refusal or failure of the API, with the stable `code` a page turns into words. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.details = body.details ?? {};
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ApiErrorBody).code === "string" &&
    typeof (value as ApiErrorBody).message === "string"
  );
}

/** The error of a failed call, as an `ApiError` whatever the server or network did. */
export async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body: unknown = await response.clone().json();
    if (isErrorBody(body)) return new ApiError(response.status, body);
  } catch {
    // not JSON: a proxy's page, an empty body
  }
  return new ApiError(response.status, {
    code: response.status >= 500 ? "server_error" : "http_error",
    message: `${response.status} ${response.statusText}`.trim(),
  });
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The browser's session is an HttpOnly cookie the page cannot read; the API takes a
 * cookie-authenticated write only with this header, which another origin cannot send
 * without a CORS preflight the API refuses (docs/signin.md). */
const csrfHeader: Middleware = {
  async onRequest({ request }) {
    if (UNSAFE.has(request.method)) request.headers.set("X-Kraken-CSRF", "1");
    return request;
  },
};

const throwOnError: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await errorOf(response);
    return undefined;
  },
};

/** A typed client of the marketplace API (paths and bodies generated from its OpenAPI
 * spec). Calls are same-origin; a failed call throws `ApiError`. */
export function makeApi(baseUrl = "") {
  const client = createClient<paths>({ baseUrl, credentials: "same-origin" });
  client.use(csrfHeader, throwOnError);
  return client;
}

export type Api = ReturnType<typeof makeApi>;
export type { components, operations, paths } from "./schema";
