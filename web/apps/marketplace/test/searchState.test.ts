import { describe, expect, it } from "vitest";
import {
  compactSearch,
  firstResultsOf,
  liveSearch,
  parseProductSearch,
  parseSearch,
  stringifySearch,
} from "../src/search/searchState";

describe("the search in the URL", () => {
  it("round-trips through a plain query string", () => {
    const query = "?q=heart+rate&mode=analytics&tag=ecg&tag=sport&price_min=1.5&sort=price_asc";
    const search = parseProductSearch(parseSearch(query));
    expect(search).toMatchObject({
      q: "heart rate",
      mode: "analytics",
      tag: ["ecg", "sport"],
      price_min: "1.5",
    });
    expect(stringifySearch(compactSearch(search))).toBe(query);
  });

  it("drops values outside the vocabulary instead of sending them", () => {
    const search = parseProductSearch(
      parseSearch("?mode=video&purpose=spying&availability=gone&availability=paused"),
    );
    expect(search.mode).toBeUndefined();
    expect(search.purpose).toBeUndefined();
    expect(search.availability).toEqual(["paused"]);
    expect(parseProductSearch({})).toEqual({});
    expect(stringifySearch(compactSearch(search))).toBe("?availability=paused");
  });
});

describe("the first results of a visit", () => {
  it("asks for what the search page will ask for", () => {
    const first = firstResultsOf({ pathname: "/", search: "?q=heart+&sort=relevance&mode=batch" });
    expect(first).toEqual(liveSearch({ q: "heart ", sort: "relevance", mode: "batch" }, "heart "));
    expect(first).toEqual({ q: "heart", sort: "relevance", mode: "batch" });
  });

  it("drops best match without words, and waits for the token on prices", () => {
    expect(firstResultsOf({ pathname: "/", search: "?sort=relevance" })).toEqual({});
    expect(firstResultsOf({ pathname: "/", search: "?price_max=2" })).toBeNull();
    expect(firstResultsOf({ pathname: "/products/0xabc", search: "" })).toBeNull();
  });
});
