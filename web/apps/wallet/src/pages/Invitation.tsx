/**
 * A company's invitation (runs in the browser): what the Depute tool offers, read from
 * its own origin, and accepting it with this wallet's Person credential; the attorney
 * credential it returns is checked before it is kept.
 */

import { useMutation, useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { Button, Notice } from "../components/controls";
import { messageOf } from "../lib/http";
import { type InvitationLink, parseInvitationLink } from "../lib/links";
import { acceptInvitation, openInvitation, personCredential } from "../lib/receive";
import { spaced, when } from "../lib/words";
import { useUnlocked } from "../store/wallet";
import { Gate } from "./Gate";

function Offer({ link }: { link: InvitationLink }) {
  const wallet = useUnlocked();
  const offer = useQuery({
    queryKey: ["invitation", link.base, link.secret],
    queryFn: () => openInvitation(link),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const accept = useMutation({
    mutationFn: async () => {
      if (offer.data === undefined) throw new Error("the invitation is not loaded");
      const person = personCredential(wallet.document.credentials, new Date());
      const token = await acceptInvitation(wallet.keys, link, offer.data, person);
      await wallet.addCredential(token);
    },
  });
  if (offer.isPending) return <p aria-live="polite">Reading the invitation from {link.base}…</p>;
  if (offer.isError) {
    return (
      <Notice tone="error" title="This invitation cannot be opened">
        {messageOf(offer.error)}
      </Notice>
    );
  }
  const data = offer.data;
  const company = data.legal_name ?? data.company;
  const forOther = data.employee_did !== null && data.employee_did !== wallet.document.did;
  return (
    <>
      <h1>Invitation from {company}</h1>
      <section aria-labelledby="offer-title" className="card">
        <h2 id="offer-title">What you would receive</h2>
        <dl className="facts">
          <dt>An attorney credential of</dt>
          <dd>
            {company} <code className="wrap">{data.company}</code>
          </dd>
          <dt>Allowed to</dt>
          <dd>{data.scope.map(spaced).join(", ")}</dd>
          {data.roles.length > 0 ? (
            <>
              <dt>Roles</dt>
              <dd>{data.roles.map(spaced).join(", ")}</dd>
            </>
          ) : null}
          <dt>Valid for</dt>
          <dd>{data.valid_days} days</dd>
          <dt>Invitation open until</dt>
          <dd>{when(data.expires_at)}</dd>
          <dt>From the Depute tool at</dt>
          <dd>
            <code className="wrap">{link.base}</code>
          </dd>
        </dl>
        <p>
          Accepting shows that tool your Person credential (your name), once, for this invitation
          only.
        </p>
      </section>
      {forOther ? (
        <Notice tone="warning">
          This invitation is for another identity ({data.employee_did}); the company's tool will
          refuse this wallet.
        </Notice>
      ) : null}
      {accept.isError ? (
        <Notice tone="error" title="Not accepted">
          {messageOf(accept.error)}
        </Notice>
      ) : null}
      {accept.isSuccess ? (
        <Notice tone="ok" title="Accepted">
          Your attorney credential for {company} is in the wallet.{" "}
          <Link to="/credentials">See your credentials</Link>
        </Notice>
      ) : (
        <Button onPress={() => accept.mutate()} isDisabled={accept.isPending}>
          {accept.isPending ? "Accepting…" : "Accept the invitation"}
        </Button>
      )}
    </>
  );
}

export function InvitationPage({ url }: { url: string }) {
  let link: InvitationLink;
  try {
    link = parseInvitationLink(url);
  } catch (reason) {
    return (
      <Notice tone="error" title="Not an invitation link">
        {messageOf(reason)}
      </Notice>
    );
  }
  return (
    <Gate purpose="Unlock to accept the invitation.">
      <Offer link={link} />
    </Gate>
  );
}
