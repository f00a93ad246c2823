import { describe, expect, it } from "vitest";
import { formatAmount, parseAmount, showAmount } from "../src/amounts";
import { golden } from "./golden";

interface Case {
  decimals: number;
  result?: string;
  error?: string;
  message?: string;
}
const vectors = golden<{
  parse: (Case & { text: string; what: string; symbol: string })[];
  format: (Case & { units: string })[];
}>("amounts.json");

describe("DATA amounts", () => {
  it.each(vectors.parse)("parses $text with $decimals decimals as Python does", (v) => {
    const parse = () => parseAmount(v.text, v.decimals, v.what, v.symbol);
    if (v.result !== undefined) {
      expect(parse()).toBe(BigInt(v.result));
    } else if (v.error === "value_error") {
      expect(parse).toThrowError(new RangeError(v.message));
    } else {
      expect(parse).toThrowError(expect.objectContaining({ code: v.error, message: v.message }));
    }
  });

  it.each(vectors.format)("formats $units with $decimals decimals as Python does", (v) => {
    const format = () => formatAmount(BigInt(v.units), v.decimals);
    if (v.result !== undefined) expect(format()).toBe(v.result);
    else expect(format).toThrowError(new RangeError(v.message));
  });

  it("round-trips what it formats", () => {
    for (const v of vectors.format.filter((c) => c.result !== undefined)) {
      expect(parseAmount(v.result ?? "", v.decimals)).toBe(BigInt(v.units));
    }
  });

  it("shows an API amount for a person", () => {
    expect(
      showAmount("2500000000000000000", { address: "0x0", symbol: "DATA", decimals: 18 }),
    ).toBe("2.5 DATA");
  });
});
