import { showAmount } from "@kraken/core";
import type { Product, Token } from "./types";
import { durationInWords } from "./words";

// Runs in the browser. A product's price in words: its access mode's price in tokens.

/** An amount of base units in tokens ("1.5 DATA"); in base units while the token's
 * decimals are unknown (no chain yet). */
export function amountInWords(units: string, token: Token | undefined): string {
  if (token === undefined) return `${BigInt(units)} base units`;
  return showAmount(units, token);
}

/** "2 DATA per access", "0.001 DATA per second (at least 30 days)", "5 DATA per computation" */
export function priceInWords(product: Product, token: Token | undefined): string {
  const { prices } = product;
  switch (product.access_mode) {
    case "batch":
      return prices.access == null
        ? "no price"
        : `${amountInWords(String(prices.access), token)} per access`;
    case "analytics":
      return prices.computation == null
        ? "no price"
        : `${amountInWords(String(prices.computation), token)} per computation`;
    case "stream": {
      if (prices.subscription_per_second == null) return "no price";
      const least = prices.subscription_min_seconds
        ? ` (at least ${durationInWords(prices.subscription_min_seconds)})`
        : "";
      return `${amountInWords(String(prices.subscription_per_second), token)} per second${least}`;
    }
  }
}
