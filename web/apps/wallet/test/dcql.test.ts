import type { JsonObject, StoredCredential } from "@kraken/core";
import { describe, expect, it } from "vitest";
import { chooseCredentials, DcqlError, matchQuery, missing } from "../src/lib/dcql";
import { credentialTitle, validity } from "../src/lib/words";

const NOW = new Date("2026-12-07T02:00:00Z");

function held(
  id: string,
  type: string,
  subject: StoredCredential["subject"],
  until = "2027-01-01T00:00:00Z",
) {
  return { id, type, issuer: "did:key:zIssuer", valid_until: until, subject, token: `token-${id}` };
}

function query(id: string, type: string, extra: JsonObject = {}): JsonObject {
  return {
    id,
    format: "jwt_vc_json",
    meta: { type_values: [["VerifiableCredential", type]] },
    ...extra,
  };
}

// The marketplace's query for "act for company C" (identity/openid4vp.py).
const DCQL: JsonObject = {
  credentials: [
    query("person", "PersonCredential"),
    query("attorney", "AttorneyCredential", {
      claims: [{ path: ["credentialSubject", "company", "id"], values: ["did:key:zAcme"] }],
    }),
    query("platform_role", "PlatformRoleCredential", { multiple: true }),
    query("buyer_category", "BuyerCategoryCredential", { multiple: true }),
  ],
  credential_sets: [
    { options: [["person"]] },
    { options: [["attorney"]] },
    { options: [["platform_role"]], required: false },
    { options: [["buyer_category"]], required: false },
  ],
};

const person1 = held("p1", "PersonCredential", { name: "Ada" });
const person2 = held("p2", "PersonCredential", { name: "Ada L." });
const oldPerson = held("p0", "PersonCredential", { name: "Ada" }, "2026-01-01T00:00:00Z");
const acme1 = held("a1", "AttorneyCredential", {
  company: { id: "did:key:zAcme", legalName: "Acme Ltd" },
});
const acme2: StoredCredential = held("a2", "AttorneyCredential", {
  company: { id: "did:key:zAcme", legalName: "Acme Ltd" },
  scope: ["buy"],
});
const other = held("a3", "AttorneyCredential", { company: { id: "did:key:zOther" } });
const role = held("r1", "PlatformRoleCredential", { role: "admin" });
const buyer = held("b1", "BuyerCategoryCredential", { category: "research-institution" });

describe("matching a DCQL query", () => {
  it("fits types, claim values and validity", () => {
    const matches = matchQuery(DCQL, [oldPerson, person1, other, acme1, role], NOW);
    const byId = Object.fromEntries(matches.map((m) => [m.query.id, m.matching.map((c) => c.id)]));
    expect(byId).toEqual({
      person: ["p1"],
      attorney: ["a1"],
      platform_role: ["r1"],
      buyer_category: [],
    });
    expect(matches.map((m) => m.required)).toEqual([true, true, false, false]);
    expect(missing(matches)).toEqual([]);
  });

  it("chooses the newest single credential, every multiple one, nothing for unmatched optional queries", () => {
    const chosen = chooseCredentials(
      matchQuery(DCQL, [person1, acme1, person2, acme2, role, buyer], NOW),
    );
    expect([...chosen].map(([id, cs]) => [id, cs.map((c) => c.id)])).toEqual([
      ["person", ["p2"]],
      ["attorney", ["a2"]],
      ["platform_role", ["r1"]],
      ["buyer_category", ["b1"]],
    ]);
  });

  it("lets the person pick among several fitting attorney credentials", () => {
    const matches = matchQuery(DCQL, [person1, acme1, acme2], NOW);
    expect(
      chooseCredentials(matches, { attorney: "a1" })
        .get("attorney")
        ?.map((c) => c.id),
    ).toEqual(["a1"]);
    // a pick that does not fit falls back to the newest
    expect(
      chooseCredentials(matches, { attorney: "a3" })
        .get("attorney")
        ?.map((c) => c.id),
    ).toEqual(["a2"]);
  });

  it("refuses when a required credential is missing (or expired)", () => {
    const matches = matchQuery(DCQL, [oldPerson, acme1], NOW);
    expect(missing(matches).map((m) => m.query.id)).toEqual(["person"]);
    expect(() => chooseCredentials(matches)).toThrow(DcqlError);
  });

  it("treats every query as required without credential_sets and skips other formats", () => {
    const plain: JsonObject = {
      credentials: [
        query("person", "PersonCredential"),
        { ...query("x", "PersonCredential"), format: "mso_mdoc" },
      ],
    };
    const matches = matchQuery(plain, [], NOW);
    expect(matches.map((m) => [m.query.id, m.required])).toEqual([["person", true]]);
  });

  it("refuses a request without a query", () => {
    expect(() => matchQuery({ nope: 1 }, [], NOW)).toThrow(/no DCQL query/);
  });
});

describe("credentials in words", () => {
  it("names each type as the marketplace does", () => {
    expect(credentialTitle(person1)).toBe("Person");
    expect(credentialTitle(acme1)).toBe("Attorney for Acme Ltd");
    expect(credentialTitle(other)).toBe("Attorney for did:key:zOther");
    expect(credentialTitle(role)).toBe("Platform role: admin");
    expect(credentialTitle(buyer)).toBe("Buyer category: research institution");
  });

  it("says when it expires or expired", () => {
    expect(validity(person1, NOW)).toBe("Valid until 1 January 2027, 00:00 UTC");
    expect(validity(oldPerson, NOW)).toBe("Expired on 1 January 2026, 00:00 UTC");
  });
});
