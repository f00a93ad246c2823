/** Byte helpers shared by the libraries (runs anywhere). */
import { base64urlnopad, hex } from "@scure/base";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** UTF-8 text of `bytes`; invalid UTF-8 throws (a `TypeError`). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function b64url(bytes: Uint8Array): string {
  return base64urlnopad.encode(bytes);
}

export function fromB64url(text: string): Uint8Array {
  return base64urlnopad.decode(text);
}

export function toHex(bytes: Uint8Array): string {
  return hex.encode(bytes);
}

/** Bytes of hex text, with or without `0x`. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  const digits = text.startsWith("0x") ? text.slice(2) : text;
  return new Uint8Array(hex.decode(digits.toLowerCase()));
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Equality in time independent of where the inputs differ (MACs). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
