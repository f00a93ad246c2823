import { describe, expect, it } from "vitest";
import {
  compactSearch,
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
