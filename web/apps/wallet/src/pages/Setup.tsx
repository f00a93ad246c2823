/**
 * Creating a wallet and importing the CLI's wallet.json (runs in the browser). Both
 * end with the wallet unlocked; the passphrase is checked by really unlocking (a
 * wrong one never replaces what is stored). `inline`: the form shown in place of a
 * page that needs a wallet (a request opened on a new device), which then goes on.
 */
import { MIN_PASSPHRASE } from "@kraken/core/walletFile";
import { useNavigate } from "@tanstack/react-router";
import { type DragEvent, type FormEvent, useState } from "react";
import { Button, Derivation, Field, Notice } from "../components/controls";
import { messageOf } from "../lib/http";
import { useWallet } from "../store/wallet";

function Replacing() {
  const wallet = useWallet();
  if (wallet.status !== "locked" && wallet.status !== "unlocked") return null;
  return (
    <Notice tone="warning" title="This replaces the wallet on this device">
      The wallet of <code className="wrap">{wallet.document.did}</code> is stored here. Export it
      first if you have no copy: this app keeps one wallet.
    </Notice>
  );
}

export function CreatePage({ inline = false }: { inline?: boolean }) {
  const Title = inline ? "h2" : "h1";
  const wallet = useWallet();
  const navigate = useNavigate();
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const short = Array.from(passphrase).length < MIN_PASSPHRASE;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (short || passphrase !== confirm) return;
    setError(null);
    setProgress(0);
    try {
      await wallet.create(passphrase, setProgress);
      if (!inline) await navigate({ to: "/" });
    } catch (reason) {
      setError(messageOf(reason));
      setProgress(null);
    }
  };
  return (
    <section aria-labelledby="create-title" className="card">
      <Title id="create-title">Create a wallet</Title>
      <p>
        A new identity (did:key) and Ethereum account are made on this device and encrypted with
        your passphrase. Nobody, the marketplace included, can recover them without it.
      </p>
      <Replacing />
      <form onSubmit={submit} className="stack">
        <Field
          label="Passphrase"
          description={`At least ${MIN_PASSPHRASE} characters.`}
          type="password"
          autoComplete="new-password"
          value={passphrase}
          onChange={setPassphrase}
          isRequired
          isInvalid={passphrase !== "" && short}
          errorMessage={`Use at least ${MIN_PASSPHRASE} characters.`}
        />
        <Field
          label="Passphrase again"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={setConfirm}
          isRequired
          isInvalid={confirm !== "" && confirm !== passphrase}
          errorMessage="The two passphrases differ."
        />
        {error ? <Notice tone="error">{error}</Notice> : null}
        {progress !== null ? <Derivation label="Encrypting your keys" value={progress} /> : null}
        <Button type="submit" isDisabled={progress !== null}>
          Create the wallet
        </Button>
      </form>
    </section>
  );
}

export function ImportPage({ inline = false }: { inline?: boolean }) {
  const Title = inline ? "h2" : "h1";
  const wallet = useWallet();
  const navigate = useNavigate();
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [passphrase, setPassphrase] = useState("");
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const read = async (picked: File | undefined) => {
    if (picked === undefined) return;
    setError(null);
    if (picked.size > 1_000_000) {
      setError("This file is too large to be a wallet.json.");
      return;
    }
    setFile({ name: picked.name, text: await picked.text() });
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    void read(event.dataTransfer.files[0]);
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (file === null) {
      setError("Choose your wallet.json first.");
      return;
    }
    setError(null);
    setProgress(0);
    try {
      await wallet.importFile(file.text, passphrase, setProgress);
      if (!inline) await navigate({ to: "/" });
    } catch (reason) {
      setError(messageOf(reason));
      setProgress(null);
    }
  };
  return (
    <section aria-labelledby="import-title" className="card">
      <Title id="import-title">Import a wallet</Title>
      <p>
        Bring the <code>wallet.json</code> that <code>kraken-market wallet create</code> made. It
        stays encrypted; your passphrase only checks that it opens.
      </p>
      <Replacing />
      <form onSubmit={submit} className="stack">
        <section
          aria-label="Drop your wallet.json here"
          className={`dropzone${over ? " dropzone-over" : ""}`}
          onDragOver={(event) => {
            event.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={drop}
        >
          <label htmlFor="wallet-file" className="file-label">
            Wallet file (wallet.json)
          </label>
          <input
            id="wallet-file"
            type="file"
            accept=".json,application/json"
            onChange={(event) => void read(event.target.files?.[0])}
          />
          <p className="muted">{file ? `Chosen: ${file.name}` : "Or drop the file here."}</p>
        </section>
        <Field
          label="Passphrase of that wallet"
          type="password"
          autoComplete="current-password"
          value={passphrase}
          onChange={setPassphrase}
          isRequired
        />
        {error ? <Notice tone="error">{error}</Notice> : null}
        {progress !== null ? <Derivation label="Checking the passphrase" value={progress} /> : null}
        <Button type="submit" isDisabled={progress !== null}>
          Import
        </Button>
      </form>
    </section>
  );
}
