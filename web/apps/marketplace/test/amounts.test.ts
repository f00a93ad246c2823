import { describe, expect, it } from "vitest";
import { formatAmount, parseAmount } from "../src/lib/amounts";

describe("amounts of DATA", () => {
  it("formats base units exactly, beyond 2^53", () => {
    expect(formatAmount("1500000000000000000", 18)).toBe("1.5");
    expect(formatAmount("0", 18)).toBe("0");
    expect(formatAmount("1", 18)).toBe("0.000000000000000001");
    expect(formatAmount("1234567000000000000000000", 18)).toBe("1,234,567");
    expect(formatAmount(2n ** 256n - 1n, 18)).toBe(
      "115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457.584007913129639935",
    );
    expect(formatAmount("12345", 0)).toBe("12,345");
  });

  it("parses what people type, refusing what is not an amount", () => {
    expect(parseAmount("1.5", 18)).toBe(1_500_000_000_000_000_000n);
    expect(parseAmount(" 1,000 ", 2)).toBe(100_000n);
    expect(parseAmount(".25", 2)).toBe(25n);
    expect(parseAmount("3.", 2)).toBe(300n);
    expect(parseAmount("0.001", 2)).toBeNull();
    for (const bad of ["", ".", "-1", "1e3", "abc", "1.2.3", "0x10"]) {
      expect(parseAmount(bad, 18)).toBeNull();
    }
  });

  it("round-trips", () => {
    for (const units of ["0", "7", "100000000000000000", "999999999999999999999999"]) {
      expect(parseAmount(formatAmount(units, 18), 18)).toBe(BigInt(units));
    }
  });
});
