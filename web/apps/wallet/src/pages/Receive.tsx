/**
 * Receiving credentials (runs in the browser): the marketplace's demo issuer (a
 * Person credential, a Buyer category credential) and a company's invitation link
 * for an attorney credential.
 */
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import {
  Button as AriaButton,
  Label,
  ListBox,
  ListBoxItem,
  Popover,
  Select,
  SelectValue,
} from "react-aria-components";
import { Button, Field, Notice } from "../components/controls";
import { Scanner } from "../components/Scanner";
import { messageOf } from "../lib/http";
import { LinkError, parseInvitationLink } from "../lib/links";
import { type DemoOffer, receiveDemo } from "../lib/receive";
import { useUnlocked } from "../store/wallet";
import { Gate } from "./Gate";

type Category = Extract<DemoOffer, { credential: "buyer_category" }>["claims"]["category"];
const CATEGORIES: Array<[Category, string]> = [
  ["individual", "Individual"],
  ["company", "Company"],
  ["research-institution", "Research institution"],
  ["public-body", "Public body"],
];

function useIssue() {
  const wallet = useUnlocked();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ tone: "ok" | "error"; text: string } | null>(null);
  const issue = async (offer: DemoOffer, what: string) => {
    setBusy(true);
    setResult(null);
    try {
      await wallet.addCredential(await receiveDemo(wallet.keys, offer));
      setResult({ tone: "ok", text: `Your ${what} credential is in the wallet.` });
    } catch (reason) {
      setResult({ tone: "error", text: messageOf(reason) });
    } finally {
      setBusy(false);
    }
  };
  return { busy, result, issue };
}

function PersonForm() {
  const { busy, result, issue } = useIssue();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [country, setCountry] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const claims: Extract<DemoOffer, { credential: "person" }>["claims"] = { name: name.trim() };
    if (email.trim()) claims.email = email.trim();
    if (country.trim()) claims.country = country.trim().toUpperCase();
    void issue({ credential: "person", claims }, "Person");
  };
  return (
    <section aria-labelledby="person-title" className="card">
      <h2 id="person-title">Person credential</h2>
      <form onSubmit={submit} className="stack">
        <Field
          label="Your name"
          value={name}
          onChange={setName}
          isRequired
          autoComplete="name"
          maxLength={200}
        />
        <Field
          label="E-mail (optional)"
          type="email"
          value={email}
          onChange={setEmail}
          autoComplete="email"
        />
        <Field
          label="Country (optional)"
          description="Two letters, e.g. DE"
          value={country}
          onChange={setCountry}
          maxLength={2}
          autoComplete="country"
        />
        {result ? <Notice tone={result.tone}>{result.text}</Notice> : null}
        <Button type="submit" isDisabled={busy}>
          Get a Person credential
        </Button>
      </form>
    </section>
  );
}

function CategoryForm() {
  const { busy, result, issue } = useIssue();
  const [category, setCategory] = useState<Category>("individual");
  const [organisation, setOrganisation] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const claims: Extract<DemoOffer, { credential: "buyer_category" }>["claims"] = { category };
    if (organisation.trim()) claims.organisation = organisation.trim();
    void issue({ credential: "buyer_category", claims }, "Buyer category");
  };
  return (
    <section aria-labelledby="category-title" className="card">
      <h2 id="category-title">Buyer category credential</h2>
      <form onSubmit={submit} className="stack">
        <Select
          className="field"
          selectedKey={category}
          onSelectionChange={(key) => setCategory(key as Category)}
        >
          <Label>Category</Label>
          <AriaButton className="select-button">
            <SelectValue />
            <span aria-hidden="true">▾</span>
          </AriaButton>
          <Popover className="popover">
            <ListBox className="listbox">
              {CATEGORIES.map(([id, label]) => (
                <ListBoxItem key={id} id={id} className="option">
                  {label}
                </ListBoxItem>
              ))}
            </ListBox>
          </Popover>
        </Select>
        <Field
          label="Organisation (optional)"
          value={organisation}
          onChange={setOrganisation}
          maxLength={200}
        />
        {result ? <Notice tone={result.tone}>{result.text}</Notice> : null}
        <Button type="submit" isDisabled={busy}>
          Get a Buyer category credential
        </Button>
      </form>
    </section>
  );
}

function Invitation() {
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const open = (text: string) => {
    try {
      parseInvitationLink(text);
      setError(null);
      void navigate({ to: "/invitation", search: { url: text.trim() } });
    } catch (reason) {
      setError(reason instanceof LinkError ? reason.message : messageOf(reason));
    }
  };
  return (
    <section aria-labelledby="invitation-title" className="card">
      <h2 id="invitation-title">Attorney credential from your company</h2>
      <p>Your company's Depute tool gives you an invitation link or QR code.</p>
      {error ? <Notice tone="error">{error}</Notice> : null}
      <Scanner onText={open} pasteLabel="Invitation link" />
    </section>
  );
}

export function ReceivePage() {
  return (
    <Gate>
      <h1>Receive a credential</h1>
      <p>
        The demo issuer is the marketplace's own, for trying things out; its credentials say what
        you type.
      </p>
      <PersonForm />
      <CategoryForm />
      <Invitation />
    </Gate>
  );
}
