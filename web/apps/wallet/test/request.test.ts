import { didKeyFromSeed, type JsonObject, sign } from "@kraken/core";
import { describe, expect, it } from "vitest";
import type { RequestLink } from "../src/lib/links";
import { CLIENT_ID_PREFIX, openRequest, REQUEST_TYP, RequestError } from "../src/lib/request";

const verifier = didKeyFromSeed(new Uint8Array(32).fill(7));
const stranger = didKeyFromSeed(new Uint8Array(32).fill(9));
const CLIENT = CLIENT_ID_PREFIX + verifier.did;
const URI = "http://127.0.0.1:8700/api/v1/auth/requests/r1";
const NOW = new Date("2026-12-07T02:00:00Z");
const EXP = NOW.getTime() / 1000 + 300;
const link: RequestLink = { kind: "request", requestUri: URI, clientId: CLIENT };

function claims(extra: JsonObject = {}): JsonObject {
  return {
    iss: CLIENT,
    client_id: CLIENT,
    aud: "https://self-issued.me/v2",
    response_type: "vp_token",
    response_mode: "direct_post",
    response_uri: `${URI}/response`,
    nonce: "n0nce",
    state: "st4te",
    dcql_query: { credentials: [] },
    client_metadata: { client_name: "Kraken Market" },
    iat: EXP - 300,
    exp: EXP,
    ...extra,
  };
}

describe("opening a request object", () => {
  it("reads a sign-in request signed by its client_id's DID", () => {
    const request = openRequest(sign(verifier, claims(), REQUEST_TYP), link, NOW);
    expect(request).toMatchObject({
      kind: "signin",
      clientId: CLIENT,
      clientName: "Kraken Market",
      origin: "http://127.0.0.1:8700",
      nonce: "n0nce",
      state: "st4te",
    });
  });

  it("reads a bind_account signing request", () => {
    const signing = { kind: "bind_account", did: stranger.did, audience: "http://127.0.0.1:8700" };
    const token = sign(
      verifier,
      claims({ response_type: "kraken_signature", signing_request: signing }),
      REQUEST_TYP,
    );
    const request = openRequest(token, link, NOW);
    expect(request.kind === "signing" && request.signing).toEqual(signing);
  });

  it("refuses a request signed by another key than the client_id's", () => {
    expect(() => openRequest(sign(stranger, claims(), REQUEST_TYP), link, NOW)).toThrow(
      /signed by/,
    );
  });

  it("refuses a forged signature, another typ, another client_id than the link's", () => {
    const token = sign(verifier, claims(), REQUEST_TYP);
    const forged = `${token.slice(0, token.lastIndexOf(".") + 1)}${"A".repeat(86)}`;
    expect(() => openRequest(forged, link, NOW)).toThrow(/signature/);
    expect(() => openRequest(sign(verifier, claims(), "JWT"), link, NOW)).toThrow(/typ/);
    const other = { ...link, clientId: CLIENT_ID_PREFIX + stranger.did };
    expect(() => openRequest(token, other, NOW)).toThrow(/another client_id/);
  });

  it("refuses an answer address on another origin, an expired request, other response types", () => {
    const elsewhere = claims({ response_uri: "https://evil.example/collect" });
    expect(() => openRequest(sign(verifier, elsewhere, REQUEST_TYP), link, NOW)).toThrow(
      RequestError,
    );
    expect(() =>
      openRequest(sign(verifier, claims({ exp: EXP - 600 }), REQUEST_TYP), link, NOW),
    ).toThrow(/expired/);
    expect(() =>
      openRequest(sign(verifier, claims({ response_type: "code" }), REQUEST_TYP), link, NOW),
    ).toThrow(/unsupported response type/);
    const plainId = claims({ client_id: verifier.did });
    expect(() =>
      openRequest(sign(verifier, plainId, REQUEST_TYP), { ...link, clientId: null }, NOW),
    ).toThrow(/DID verifiers only/);
  });

  it("refuses a sign-in request without a DCQL query", () => {
    const token = sign(verifier, claims({ dcql_query: { wanted: "everything" } }), REQUEST_TYP);
    expect(() => openRequest(token, link, NOW)).toThrow(/no DCQL query/);
  });

  it("refuses a signing request of an unknown kind", () => {
    const token = sign(
      verifier,
      claims({
        response_type: "kraken_signature",
        signing_request: { kind: "wire_money", did: stranger.did },
      }),
      REQUEST_TYP,
    );
    expect(() => openRequest(token, link, NOW)).toThrow(/cannot sign/);
  });
});
