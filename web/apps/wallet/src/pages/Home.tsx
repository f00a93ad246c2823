/**
 * The wallet's first page (runs in the browser): who this wallet is (identity and
 * account), what to do next, export and removal.
 */
import { Link, useNavigate } from "@tanstack/react-router";
import { Button, Confirm } from "../components/controls";
import { useUnlocked } from "../store/wallet";
import { Gate } from "./Gate";

function download(text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = "wallet.json";
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function Overview() {
  const wallet = useUnlocked();
  const navigate = useNavigate();
  const { document } = wallet;
  return (
    <>
      <h1>Your wallet</h1>
      <section aria-labelledby="identity-title" className="card">
        <h2 id="identity-title">Identity</h2>
        <dl className="facts">
          <dt>Identity (DID)</dt>
          <dd>
            <code className="wrap" data-testid="wallet-did">
              {document.did}
            </code>
          </dd>
          <dt>Ethereum account</dt>
          <dd>
            <code className="wrap" data-testid="wallet-account">
              {document.address}
            </code>
          </dd>
          <dt>Credentials</dt>
          <dd>
            <Link to="/credentials">{document.credentials.length} held</Link>
          </dd>
        </dl>
      </section>
      <section aria-labelledby="next-title" className="card">
        <h2 id="next-title">Do something</h2>
        <div className="actions">
          <Link to="/scan" className="button button-primary">
            Scan or paste a request
          </Link>
          <Link to="/receive" className="button button-secondary">
            Receive a credential
          </Link>
        </div>
      </section>
      <section aria-labelledby="keep-title" className="card">
        <h2 id="keep-title">Keep it safe</h2>
        <p>
          The wallet lives in this browser only. Export <code>wallet.json</code> to keep a copy, or
          to use it with <code>kraken-market</code> on a computer. It stays encrypted with your
          passphrase.
        </p>
        <div className="actions">
          <Button tone="secondary" onPress={() => download(wallet.exportText())}>
            Export wallet.json
          </Button>
          <Confirm
            trigger="Remove from this device"
            title="Remove the wallet from this device?"
            confirm="Remove it"
            onConfirm={() => {
              void wallet.forget().then(() => navigate({ to: "/" }));
            }}
          >
            <p>
              Without an exported <code>wallet.json</code>, this identity and its credentials are
              gone for good.
            </p>
          </Confirm>
        </div>
      </section>
    </>
  );
}

export function HomePage() {
  return (
    <Gate>
      <Overview />
    </Gate>
  );
}
