// Runs in the browser. Amounts of DATA are whole base units (decimal strings in the
// API, up to 2^256 - 1): formatted and parsed with bigint, never a floating-point number.

/** `units` base units as tokens with `decimals` decimals: "1234500…" → "1,234.5". */
export function formatAmount(units: string | bigint, decimals: number): string {
  const value = typeof units === "bigint" ? units : BigInt(units);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const scale = 10n ** BigInt(decimals);
  const whole = (magnitude / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = (magnitude % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** Tokens typed by a person ("12.5", "1,000") as base units; null when not an amount
 * (a sign, letters, an exponent, more decimals than the token has). */
export function parseAmount(text: string, decimals: number): bigint | null {
  const plain = text.trim().replace(/,/g, "");
  const match = /^(\d*)(?:\.(\d*))?$/.exec(plain);
  if (match === null || plain === "" || plain === ".") return null;
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) return null;
  return (
    BigInt(whole || "0") * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0")
  );
}
