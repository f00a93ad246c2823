import { ApiError } from "@kraken/api";
import { CoreError } from "@kraken/core";
import { describe, expect, it } from "vitest";
import { messageOf } from "../src/lib/http";
import { RequestError } from "../src/lib/request";

describe("errors in words", () => {
  it("uses the marketplace's words for the codes it knows", () => {
    const wrong = new CoreError("wrong_passphrase", "wrong passphrase for the wallet");
    expect(messageOf(wrong)).toBe("The passphrase is wrong. Try again.");
    const closed = new ApiError(410, { code: "request_closed", message: "request r1 expired" });
    expect(messageOf(closed)).toMatch(/^This request is closed/);
  });

  it("keeps the server's or the wallet's own message otherwise", () => {
    const odd = new ApiError(409, {
      code: "depute_gremlins",
      message: "the Depute tool is busy",
    });
    expect(messageOf(odd)).toBe("the Depute tool is busy");
    const foreign = new RequestError(
      "the request asks for the answer at https://evil.example, another site",
    );
    expect(messageOf(foreign)).toContain("https://evil.example");
  });
});
