import { describe, expect, it } from "vitest";
import {
  LinkError,
  parseInvitationLink,
  parseRequestLink,
  parseWalletLink,
} from "../src/lib/links";

const CLIENT = "decentralized_identifier:did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
const URI = "http://127.0.0.1:8700/api/v1/auth/requests/abcdef0123456789";
const query = `client_id=${encodeURIComponent(CLIENT)}&request_uri=${encodeURIComponent(URI)}`;

describe("request links", () => {
  it("reads the QR code's openid4vp:// text", () => {
    expect(parseRequestLink(`openid4vp://?${query}`)).toEqual({
      kind: "request",
      requestUri: URI,
      clientId: CLIENT,
    });
  });

  it("reads the same-device link", () => {
    const link = parseWalletLink(`https://market.example/wallet/request?${query}`);
    expect(link).toEqual({ kind: "request", requestUri: URI, clientId: CLIENT });
  });

  it("takes a bare request_uri of the marketplace or a Depute tool", () => {
    expect(parseRequestLink(`  ${URI} `)).toEqual({
      kind: "request",
      requestUri: URI,
      clientId: null,
    });
    const depute = "http://127.0.0.1:8710/api/signin/requests/xyz_1";
    expect(parseWalletLink(depute)).toEqual({
      kind: "request",
      requestUri: depute,
      clientId: null,
    });
  });

  it("refuses a request_uri that is not a web address", () => {
    expect(() => parseRequestLink("openid4vp://?request_uri=javascript%3Aalert(1)")).toThrow(
      LinkError,
    );
    expect(() => parseRequestLink("openid4vp://?request_uri=file%3A%2F%2F%2Fetc%2Fpasswd")).toThrow(
      /not a web address/,
    );
  });

  it("refuses other text", () => {
    expect(() => parseRequestLink("https://market.example/products")).toThrow(
      /not a sign-in request/,
    );
    expect(() => parseWalletLink("hello")).toThrow(LinkError);
  });
});

describe("invitation links", () => {
  const secret = "AbCdEfGhIjKlMnOpQrStUv_-12";

  it("splits the Depute tool's base and the secret", () => {
    expect(parseWalletLink(`http://127.0.0.1:8710/invitations/${secret}`)).toEqual({
      kind: "invitation",
      base: "http://127.0.0.1:8710",
      secret,
    });
    expect(parseInvitationLink(`https://depute.example/acme/invitations/${secret}?x=1`).base).toBe(
      "https://depute.example/acme",
    );
  });

  it("refuses a short, odd or missing secret", () => {
    expect(() => parseInvitationLink("http://127.0.0.1:8710/invitations/short")).toThrow(LinkError);
    expect(() => parseInvitationLink(`http://127.0.0.1:8710/invitations/${secret}/qr.svg`)).toThrow(
      LinkError,
    );
    expect(() => parseInvitationLink(`ftp://x/invitations/${secret}`)).toThrow(/web address/);
  });
});
