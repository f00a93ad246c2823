import { ApiError } from "@kraken/api";
import { describe, expect, it } from "vitest";
import { reasonOf, whySignedOut } from "../src/lib/session";
import { safeNext } from "../src/signin/flow";
import { parseSignInSearch } from "../src/signin/search";

describe("why a session ended, in words", () => {
  it("names the company whose attorney credential ended it", () => {
    expect(whySignedOut("credential_revoked", "", "Demo Hospital")).toBe(
      "Your attorney credential for Demo Hospital was revoked, so you were signed out.",
    );
    expect(whySignedOut("credential_expired", "", null)).toBe(
      "One of your credentials expired, so you were signed out.",
    );
    expect(whySignedOut("company_not_identified", "", "Demo Hospital")).toMatch(
      /^Demo Hospital is no longer identified/,
    );
    expect(whySignedOut("session_invalid", "", null)).toBe("Your session ended. Sign in again.");
  });

  it("reads the refusal behind session_ended, else the code", () => {
    const ended = new ApiError(401, {
      code: "session_ended",
      message: "",
      details: { reason: "credential_revoked" },
    });
    expect(reasonOf(ended)).toBe("credential_revoked");
    expect(reasonOf(new ApiError(401, { code: "credential_revoked", message: "" }))).toBe(
      "credential_revoked",
    );
    expect(reasonOf(new ApiError(401, { code: "session_ended", message: "" }))).toBe(
      "session_ended",
    );
  });
});

describe("where the sign-in goes back to", () => {
  it("only to a page of this site, never back to the sign-in", () => {
    expect(safeNext("/products/0xab?purpose=research")).toBe("/products/0xab?purpose=research");
    for (const unsafe of [undefined, "", "https://evil.example/", "//evil.example/x", "/signin"]) {
      expect(safeNext(unsafe)).toBe("/");
    }
  });

  it("reads the address's next, why and company as text only", () => {
    expect(parseSignInSearch({ next: "/account", why: "credential_revoked", company: 3 })).toEqual({
      next: "/account",
      why: "credential_revoked",
      company: undefined,
    });
  });
});
