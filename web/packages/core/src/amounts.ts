/**
 * Amounts of DATA for people, exactly as kraken_market/ledger/amounts.py: exact
 * decimal text in and out, base units as bigint, never a float. Runs anywhere.
 *
 * Refused with `invalid_amount` and Python's message word for word (naming the
 * field as the person sees it): anything but plain ASCII digits with at most
 * one point (no signs, exponents, separators, NaN/Infinity), more significant
 * fractional digits than the token has, and more than 2^256-1 base units.
 * A token's `decimals` outside 0-77 is a programming error (`RangeError`).
 */
import { CoreError } from "./errors";

export const MAX_DECIMALS = 77;
export const UINT256_MAX = 2n ** 256n - 1n;
const DECIMAL_TEXT = /^(?<whole>[0-9]*)(?:\.(?<fraction>[0-9]*))?$/;
// Python's str.strip() removes what str.isspace() calls whitespace.
const PY_SPACE =
  "[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, "gu");

/** The token as GET /api/v1/ledger/token describes it. */
export interface Token {
  readonly address: string;
  readonly symbol: string;
  readonly decimals: number;
}

function checkDecimals(decimals: number): void {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new RangeError(`a token has 0 to ${MAX_DECIMALS} decimals, not ${decimals}`);
  }
}

/** Python's repr() of a str, for the messages that quote what was typed. */
function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === "\\" || char === quote) out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0))
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += char;
  }
  return quote + out + quote;
}

function invalid(message: string, details: Record<string, unknown>): CoreError {
  return new CoreError("invalid_amount", message, details);
}

/**
 * Base units of the decimal amount `text` (e.g. "4.5") of a token with
 * `decimals` decimals; `what` names the field as typed (e.g. "the price").
 */
export function parseAmount(
  text: string,
  decimals: number,
  what = "the amount",
  symbol = "DATA",
): bigint {
  checkDecimals(decimals);
  const typed = text.replace(STRIP, "");
  const chars = Array.from(typed); // code points, as Python counts
  const shown = chars.length <= 40 ? typed : `${chars.slice(0, 40).join("")}…`;
  if (typed.startsWith("-") && DECIMAL_TEXT.test(typed.slice(1))) {
    throw invalid(`${what}: ${shown} is negative; amounts of ${symbol} are 0 or more`, {
      option: what,
      value: shown,
    });
  }
  const match = DECIMAL_TEXT.exec(typed);
  const whole0 = match?.groups?.whole ?? "";
  const fraction0 = match?.groups?.fraction ?? "";
  if (match === null || !(whole0 || fraction0)) {
    throw invalid(
      `${what}: ${pythonRepr(shown)} is not an amount of ${symbol}; write digits with at most one decimal point, like 5 or 0.25`,
      { option: what, value: shown },
    );
  }
  const whole = whole0.replace(/^0+/, "") || "0";
  const fraction = fraction0.replace(/0+$/, "");
  if (fraction.length > decimals) {
    throw invalid(
      decimals === 0
        ? `${what}: ${shown} is not a whole number of ${symbol}`
        : `${what}: ${shown} has ${fraction.length} decimals; ${symbol} has ${decimals}, so the smallest amount is ${formatAmount(1n, decimals)} ${symbol}`,
      { option: what, value: shown, decimals },
    );
  }
  const tooBig = whole.length > UINT256_MAX.toString().length;
  const units = tooBig
    ? 0n
    : BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  if (tooBig || units > UINT256_MAX) {
    throw invalid(
      `${what}: ${shown} ${symbol} is more than the token can count (at most ${formatAmount(UINT256_MAX, decimals)} ${symbol})`,
      { option: what, value: shown },
    );
  }
  return units;
}

/** `units` base units as exact decimal text, trailing zeros trimmed (1500000n, 6 -> "1.5"). */
export function formatAmount(units: bigint, decimals: number): string {
  checkDecimals(decimals);
  if (units < 0n) throw new RangeError(`amounts are never negative, got ${units}`);
  const scale = 10n ** BigInt(decimals);
  const whole = units / scale;
  const digits = (units % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return digits ? `${whole}.${digits}` : whole.toString();
}

/** `units` (a bigint or the API's decimal string) for a person: "2.5 DATA". */
export function showAmount(units: bigint | string, token: Token): string {
  return `${formatAmount(BigInt(units), token.decimals)} ${token.symbol}`;
}
