import { describe, expect, it } from "vitest";
import { toHex } from "../src/bytes";
import {
  decryptKeystore,
  encryptKeystore,
  type KeystoreV3,
  STANDARD_SCRYPT_N,
} from "../src/keystore";
import { type KeystoreReply, type KeystoreRequest, runKeystoreJob } from "../src/keystoreJobs";
import { deriveInWorker, type KeystorePort } from "../src/keystoreWorker";
import { artifact, golden, hexBytes } from "./golden";

interface Case {
  name: string;
  secret: string;
  passphrase: string;
  keystore: KeystoreV3;
  address?: string;
}
const { cases } = golden<{ cases: Case[] }>("keystores.json");
const low = cases.filter(
  (c) => !("n" in c.keystore.crypto.kdfparams) || c.keystore.crypto.kdfparams.n < STANDARD_SCRYPT_N,
);
const standard = cases.find(
  (c) => "n" in c.keystore.crypto.kdfparams && c.keystore.crypto.kdfparams.n === STANDARD_SCRYPT_N,
);

function sameParams(c: Case) {
  const params = c.keystore.crypto.kdfparams;
  return {
    kdf: c.keystore.crypto.kdf,
    work: "n" in params ? params.n : params.c,
    salt: hexBytes(params.salt),
    iv: hexBytes(c.keystore.crypto.cipherparams.iv),
    id: c.keystore.id,
    ...(c.address ? { address: c.address } : {}),
  };
}

/** The worker's side of the protocol in this process: the real job handler behind a port. */
function inProcessPort(): KeystorePort {
  const listeners = new Set<(event: MessageEvent<KeystoreReply>) => void>();
  const emit = (reply: KeystoreReply) => {
    for (const listener of listeners) listener({ data: reply } as MessageEvent<KeystoreReply>);
  };
  return {
    postMessage: (request: KeystoreRequest) => {
      void runKeystoreJob(request, (fraction) =>
        emit({ id: request.id, kind: "progress", fraction }),
      ).then(emit);
    },
    addEventListener: (_type, listener) => listeners.add(listener),
    removeEventListener: (_type, listener) => listeners.delete(listener),
  };
}

describe("keystore v3", () => {
  it.each(low)("decrypts Python's '$name'", async (c) => {
    expect(toHex(await decryptKeystore(c.keystore, c.passphrase))).toBe(c.secret);
  });

  it.each(low)(
    "encrypts '$name' byte-identically to Python with its salt, iv and id",
    async (c) => {
      const store = await encryptKeystore(hexBytes(c.secret), c.passphrase, sameParams(c));
      expect(JSON.stringify(store)).toBe(JSON.stringify(c.keystore));
    },
  );

  it("decrypts Python's keystore of the standard work factor (n = 2^18) in a worker job", async () => {
    if (!standard) throw new Error("no standard keystore vector");
    const seen: number[] = [];
    const secret = await deriveInWorker(
      { op: "decrypt", keystore: standard.keystore, passphrase: standard.passphrase },
      { port: inProcessPort(), onProgress: (f) => seen.push(f) },
    );
    expect(toHex(secret)).toBe(standard.secret);
    expect(seen.length).toBeGreaterThan(1);
  });

  it("refuses a wrong passphrase, through the worker protocol too", async () => {
    const c = low[0];
    if (!c) throw new Error("no vector");
    await expect(decryptKeystore(c.keystore, "not the passphrase")).rejects.toMatchObject({
      code: "wrong_passphrase",
    });
    await expect(
      deriveInWorker(
        { op: "decrypt", keystore: c.keystore, passphrase: "nope" },
        { port: inProcessPort() },
      ),
    ).rejects.toMatchObject({ code: "wrong_passphrase" });
  });

  it("refuses a keystore asking for more work than a browser can give", async () => {
    const c = low[0];
    if (!c) throw new Error("no vector");
    const hostile = structuredClone(c.keystore);
    hostile.crypto.kdfparams = {
      ...hostile.crypto.kdfparams,
      n: 2 ** 30,
    } as KeystoreV3["crypto"]["kdfparams"];
    await expect(decryptKeystore(hostile, c.passphrase)).rejects.toMatchObject({
      code: "keystore_invalid",
    });
    const damaged = structuredClone(c.keystore);
    damaged.crypto.cipherparams.iv = "00";
    await expect(decryptKeystore(damaged, c.passphrase)).rejects.toMatchObject({
      code: "keystore_invalid",
    });
  });

  it("writes keystores for Python to decrypt (low and standard work)", async () => {
    const secret = hexBytes("42".repeat(32));
    const passphrase = "pässphrase from TypeScript";
    const made = await deriveInWorker(
      { op: "encrypt", secret, passphrase, options: { kdf: "scrypt", work: 2 ** 10 } },
      { port: inProcessPort() },
    );
    const pbkdf2 = await encryptKeystore(secret, passphrase, { kdf: "pbkdf2", work: 1000 });
    const stdWork = await encryptKeystore(secret, passphrase);
    expect(toHex(await decryptKeystore(made, passphrase))).toBe(toHex(secret));
    artifact("keystores", {
      secret: toHex(secret),
      passphrase,
      keystores: [made, pbkdf2, stdWork],
    });
  });
});
