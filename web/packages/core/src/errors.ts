/**
 * The libraries' one error type (runs anywhere: browser, worker, Node tests).
 *
 * `code` is the stable code the Python implementation raises for the same
 * situation (kraken_market.errors and its subclasses: `invalid_did`,
 * `malformed_token`, `wrong_passphrase`, `invalid_amount`, ...), so the apps
 * branch on the same words the API and the CLI use.
 */
export class CoreError extends Error {
  override readonly name = "CoreError";

  constructor(
    readonly code: string,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}
