import { describe, expect, it } from "vitest";
import { ApiError } from "../src/client";
import { asApiError, hasMessage, messageFor } from "../src/messages";

describe("errors in words", () => {
  it("tells a known code in words, not the server's developer text", () => {
    const error = new ApiError(404, { code: "product_not_found", message: "no product 0x00" });
    expect(messageFor(error)).toMatch(/^There is no product with this id/);
    expect(messageFor(error)).not.toContain("0x00");
  });

  it("names the fields of a validation error", () => {
    const error = new ApiError(422, {
      code: "validation_error",
      message: "query.price_min: bad",
      details: [
        { loc: ["query", "price_min"], type: "amount_type", message: "bad" },
        { loc: ["body", "policy", "regions", 0], type: "unknown_region", message: "bad" },
      ] as unknown as Record<string, unknown>,
    });
    expect(messageFor(error)).toMatch(/Check: price_min, policy\.regions\.0\.$/);
  });

  it("keeps an unknown code visible instead of inventing words for it", () => {
    const error = new ApiError(409, { code: "something_new", message: "x" });
    expect(hasMessage("something_new")).toBe(false);
    expect(messageFor(error)).toContain("something_new");
  });

  it("turns a failed fetch into network_error, anything else into internal_error", () => {
    expect(asApiError(new TypeError("Failed to fetch")).code).toBe("network_error");
    expect(messageFor(asApiError(new TypeError("Failed to fetch")))).toMatch(/cannot be reached/);
    expect(asApiError(new Error("boom")).code).toBe("internal_error");
    const original = new ApiError(503, { code: "unavailable", message: "down" });
    expect(asApiError(original)).toBe(original);
  });
});
