import { describe, expect, it } from "vitest";
import {
  buyerCategoryName,
  durationInWords,
  listInWords,
  modeName,
  purposeName,
  qualityWords,
  regionName,
  timeInWords,
} from "../src/lib/words";

describe("the vocabulary in words", () => {
  it("names every region a policy may hold", () => {
    expect(regionName("EU")).toBe("European Union");
    expect(regionName("EEA")).toBe("European Economic Area");
    expect(regionName("CH")).toBe("Switzerland");
    expect(regionName("DE")).toBe("Germany");
  });

  it("names purposes, buyer categories, modes and quality", () => {
    expect(purposeName("public-health")).toBe("Public health");
    expect(buyerCategoryName("research-institution")).toBe("Research institutions");
    expect(modeName("batch")).toBe("File");
    expect(qualityWords("slashed")).toMatch(/claim was upheld/);
  });

  it("writes lists, durations and times as sentences do", () => {
    expect(listInWords([])).toBe("");
    expect(listInWords(["a"])).toBe("a");
    expect(listInWords(["a", "b", "c"])).toBe("a, b and c");
    expect(durationInWords(3600)).toBe("1 hour");
    expect(durationInWords(30 * 86400 + 90)).toBe("30 days 1 minute 30 seconds");
    expect(timeInWords("2026-12-07T01:43:00Z")).toBe("7 Dec 2026, 01:43 UTC");
  });
});
