/**
 * What a page needs before it shows anything of the wallet (runs in the browser):
 * a wallet on this device (else: create or import) and the keys unlocked (else: the
 * passphrase, derived in the worker with progress). Pages behind it may call
 * `useUnlocked()`.
 */
import { type FormEvent, type ReactNode, useState } from "react";
import { Button, Derivation, Field, Notice } from "../components/controls";
import { messageOf } from "../lib/http";
import { useWallet } from "../store/wallet";
import { CreatePage, ImportPage } from "./Setup";

export function UnlockForm({ purpose }: { purpose?: string }) {
  const wallet = useWallet();
  const [passphrase, setPassphrase] = useState("");
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setProgress(0);
    try {
      await wallet.unlock(passphrase, setProgress);
    } catch (reason) {
      setError(messageOf(reason));
      setProgress(null);
    }
  };
  return (
    <section aria-labelledby="unlock-title" className="card">
      <h2 id="unlock-title">Unlock your wallet</h2>
      {purpose ? <p>{purpose}</p> : null}
      {wallet.status === "locked" ? (
        <p className="muted">
          Identity <code className="wrap">{wallet.document.did}</code>
        </p>
      ) : null}
      <form onSubmit={submit} className="stack">
        <Field
          label="Passphrase"
          type="password"
          autoComplete="current-password"
          value={passphrase}
          onChange={setPassphrase}
          isRequired
          autoFocus
        />
        {error ? <Notice tone="error">{error}</Notice> : null}
        {progress !== null ? <Derivation label="Opening your keys" value={progress} /> : null}
        <Button type="submit" isDisabled={progress !== null}>
          Unlock
        </Button>
      </form>
    </section>
  );
}

export function NoWallet() {
  const [form, setForm] = useState<"create" | "import" | null>(null);
  if (form === "create") return <CreatePage inline />;
  if (form === "import") return <ImportPage inline />;
  return (
    <section aria-labelledby="welcome-title" className="card">
      <h2 id="welcome-title">No wallet on this device yet</h2>
      <p>
        Your wallet holds your identity (a did:key), your Ethereum account and your credentials.
        They stay on this device, encrypted with your passphrase.
      </p>
      <div className="actions">
        <Button onPress={() => setForm("create")}>Create a wallet</Button>
        <Button tone="secondary" onPress={() => setForm("import")}>
          Import wallet.json
        </Button>
      </div>
    </section>
  );
}

export function Gate({ children, purpose }: { children: ReactNode; purpose?: string }) {
  const wallet = useWallet();
  if (wallet.status === "loading") return <p aria-live="polite">Opening the wallet…</p>;
  if (wallet.status === "none") return <NoWallet />;
  if (wallet.status === "unreadable") {
    return (
      <Notice tone="error" title="The wallet stored in this browser cannot be read">
        {wallet.message}. If the browser blocks site storage here (private window, settings), allow
        it and reload.
      </Notice>
    );
  }
  if (wallet.status === "locked") return <UnlockForm purpose={purpose} />;
  return <>{children}</>;
}
