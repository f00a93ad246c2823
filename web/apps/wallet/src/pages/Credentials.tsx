/**
 * The credentials the wallet holds, in words, and one credential's details with its
 * removal (runs in the browser).
 */
import { Link, useNavigate } from "@tanstack/react-router";
import { Confirm, Notice } from "../components/controls";
import {
  claimLines,
  credentialTitle,
  isExpired,
  shortDid,
  subjectName,
  validity,
  when,
} from "../lib/words";
import { useUnlocked } from "../store/wallet";
import { Gate } from "./Gate";

function List() {
  const { document } = useUnlocked();
  const now = new Date();
  const held = [...document.credentials].reverse();
  return (
    <>
      <h1>Credentials</h1>
      {held.length === 0 ? (
        <Notice tone="info">
          No credentials yet. <Link to="/receive">Receive one</Link>.
        </Notice>
      ) : (
        <ul className="credentials" aria-label="Credentials you hold">
          {held.map((c) => {
            const expired = isExpired(c, now);
            const name = subjectName(c);
            return (
              <li key={c.id} className={`credential${expired ? " credential-expired" : ""}`}>
                <Link to="/credentials/$id" params={{ id: c.id }} className="credential-link">
                  <span className="credential-title">{credentialTitle(c)}</span>
                  {name ? <span>{name}</span> : null}
                  <span className="muted">Issued by {shortDid(c.issuer)}</span>
                  <span className={expired ? "expired" : "muted"}>{validity(c, now)}</span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
      <p>
        <Link to="/receive">Receive a credential</Link>
      </p>
    </>
  );
}

function Details({ id }: { id: string }) {
  const wallet = useUnlocked();
  const navigate = useNavigate();
  const credential = wallet.document.credentials.find((c) => c.id === id);
  if (credential === undefined) {
    return (
      <Notice tone="error" title="No such credential">
        It may have been removed. <Link to="/credentials">All credentials</Link>
      </Notice>
    );
  }
  const now = new Date();
  return (
    <>
      <h1>{credentialTitle(credential)}</h1>
      {isExpired(credential, now) ? (
        <Notice tone="warning">
          This credential has expired: the marketplace no longer accepts it.
        </Notice>
      ) : null}
      <section aria-labelledby="about-title" className="card">
        <h2 id="about-title">What it says</h2>
        <dl className="facts">
          {claimLines(credential).map(([label, value]) => (
            <div key={label} className="fact">
              <dt>{label}</dt>
              <dd className="wrap">{value}</dd>
            </div>
          ))}
          <div className="fact">
            <dt>Issuer</dt>
            <dd>
              <code className="wrap">{credential.issuer}</code>
            </dd>
          </div>
          <div className="fact">
            <dt>Validity</dt>
            <dd>{validity(credential, now)}</dd>
          </div>
          <div className="fact">
            <dt>Identifier</dt>
            <dd>
              <code className="wrap">{credential.id}</code>
            </dd>
          </div>
        </dl>
      </section>
      <div className="actions">
        <Link to="/credentials" className="button button-secondary">
          All credentials
        </Link>
        <Confirm
          trigger="Remove"
          title="Remove this credential?"
          confirm="Remove it"
          onConfirm={() => {
            void wallet
              .removeCredential(credential.id)
              .then(() => navigate({ to: "/credentials" }));
          }}
        >
          <p>
            {credentialTitle(credential)}
            {credential.valid_until ? `, valid until ${when(credential.valid_until)}` : ""}. You
            would need its issuer to issue it again.
          </p>
        </Confirm>
      </div>
    </>
  );
}

export function CredentialsPage() {
  return (
    <Gate>
      <List />
    </Gate>
  );
}

export function CredentialPage({ id }: { id: string }) {
  return (
    <Gate>
      <Details id={id} />
    </Gate>
  );
}
