/**
 * Answering a sign-in or signing request (runs in the browser, keys in memory): the
 * request object is fetched and checked (lib/request.ts), the page says WHO asks (the
 * name the request gives and the origin the network proves) and WHAT would be shared
 * or signed, the person approves or declines, and the answer is posted by
 * direct_post. Same-device: the browser then goes where the verifier says (on the
 * verifier's own origin only); cross-device: the other screen takes over.
 */
import type { StoredCredential, Token } from "@kraken/core";
import type { Deployment } from "@kraken/core/contracts";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Label, Radio, RadioGroup } from "react-aria-components";
import { Button, Notice } from "../components/controls";
import {
  type Answered,
  answerBinding,
  answerMessage,
  answerSignin,
  answerTransaction,
  decline,
  fetchRequest,
} from "../lib/answer";
import { chooseCredentials, matchQuery, missing, type QueryMatch } from "../lib/dcql";
import { getJson, messageOf } from "../lib/http";
import type { RequestLink } from "../lib/links";
import type { AskedTransaction, WalletRequest } from "../lib/request";
import { credentialDetail, credentialTitle, subjectName } from "../lib/words";
import { useUnlocked } from "../store/wallet";
import { Gate } from "./Gate";
import {
  askedElsewhere,
  describeSigning,
  foreignAudience,
  type Marketplace,
  type ReadTransaction,
  readTransaction,
} from "./signing";

function label(c: StoredCredential): string {
  const name = subjectName(c);
  return name ? `${credentialTitle(c)} — ${name}` : credentialTitle(c);
}

function Shared({
  matches,
  picks,
  onPick,
}: {
  matches: QueryMatch[];
  picks: Record<string, string>;
  onPick: (query: string, id: string) => void;
}) {
  return (
    <ul className="shared" aria-label="What will be shared">
      {matches
        .filter((m) => m.matching.length > 0)
        .map(({ query, matching }) =>
          !query.multiple && matching.length > 1 ? (
            <li key={query.id}>
              <RadioGroup
                className="choice"
                value={picks[query.id] ?? matching[matching.length - 1]?.id ?? null}
                onChange={(id) => onPick(query.id, id)}
              >
                <Label>Which “{credentialTitle(matching[0] as StoredCredential)}” to share?</Label>
                {matching.map((c) => (
                  <Radio key={c.id} value={c.id} className="radio">
                    {label(c)} ({credentialDetail(c, new Date())})
                  </Radio>
                ))}
              </RadioGroup>
            </li>
          ) : (
            matching.map((c) => <li key={c.id}>{label(c)}</li>)
          ),
        )}
    </ul>
  );
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

function Finished({
  request,
  result,
  declined,
}: {
  request: WalletRequest;
  result: Answered;
  declined: boolean;
}) {
  const next =
    result.redirectUri !== null && sameOrigin(result.redirectUri, request.origin)
      ? result.redirectUri
      : null;
  useEffect(() => {
    if (next !== null && !declined) window.location.assign(next);
  }, [next, declined]);
  if (next !== null && !declined) {
    return <Notice tone="ok">Done — taking you back to {request.origin}…</Notice>;
  }
  return (
    <Notice tone={declined ? "info" : "ok"} title={declined ? "Declined" : "Done"}>
      {declined
        ? `${request.clientName} has been told you declined.`
        : "Done — go back to the other screen."}
      {next !== null ? (
        <>
          {" "}
          <a href={next}>Back to {request.origin}</a>
        </>
      ) : null}
    </Notice>
  );
}

/**
 * The wallet's own marketplace: this app is served by the marketplace's API, so its
 * origin is the marketplace's, and the deployment and token are read from there, never
 * from the origin that asks (a hostile one could serve a forged deployment).
 */
const MARKETPLACE = window.location.origin;

async function fetchMarketplace(): Promise<Marketplace> {
  const [deployment, token] = await Promise.all([
    getJson<Deployment>(`${MARKETPLACE}/api/v1/ledger/deployment`),
    getJson<Token>(`${MARKETPLACE}/api/v1/ledger/token`),
  ]);
  return { origin: MARKETPLACE, deployment, token };
}

function TransactionShown({
  asked,
  read,
}: {
  asked: AskedTransaction;
  read: ReadTransaction | null;
}) {
  if (read === null) return <p aria-live="polite">Reading the transaction…</p>;
  if (!read.ok) {
    return (
      <Notice tone="error" title="This wallet will not sign this transaction">
        {read.problem}
      </Notice>
    );
  }
  return (
    <>
      <p className="statement">{read.action}</p>
      <dl className="facts" aria-label="Transaction details">
        <dt>Contract</dt>
        <dd className="wrap">
          {read.contract} at {read.address}
        </dd>
        <dt>Action</dt>
        <dd>{read.function}</dd>
        <dt>From</dt>
        <dd className="wrap">your account {asked.account}</dd>
        <dt>Chain</dt>
        <dd>{asked.chainId}</dd>
        <dt>Network fee</dt>
        <dd>at most {read.maxFee} ether (the chain's own currency, not DATA)</dd>
      </dl>
    </>
  );
}

function Answer({ request }: { request: WalletRequest }) {
  const wallet = useUnlocked();
  const [picks, setPicks] = useState<Record<string, string>>({});
  const now = new Date();
  const matches =
    request.kind === "signin" ? matchQuery(request.dcql, wallet.document.credentials, now) : [];
  const gaps = missing(matches);
  const signing = request.kind === "signing" ? request.signing : null;
  const wrongIdentity = signing !== null && signing.did !== wallet.document.did;
  const elsewhere =
    signing?.kind === "transaction" ? askedElsewhere(request.origin, MARKETPLACE) : null;
  const contracts = useQuery({
    queryKey: ["marketplace", MARKETPLACE],
    queryFn: fetchMarketplace,
    enabled: signing?.kind === "transaction" && elsewhere === null,
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const read: ReadTransaction | null =
    elsewhere !== null
      ? { ok: false, problem: elsewhere }
      : signing?.kind === "transaction" && contracts.data
        ? readTransaction(signing, request.origin, contracts.data, wallet.document.address)
        : null;
  const wrongAccount =
    signing !== null &&
    signing.kind === "message" &&
    signing.account.toLowerCase() !== wallet.document.address.toLowerCase();
  const unreadable = signing?.kind === "transaction" && (read === null || !read.ok);
  const approve = useMutation({
    mutationFn: (): Promise<Answered> => {
      if (request.kind === "signin") {
        return answerSignin(wallet.keys, request, chooseCredentials(matches, picks));
      }
      if (request.signing.kind === "transaction" && contracts.data) {
        return answerTransaction(wallet.keys, request, contracts.data);
      }
      if (request.signing.kind === "message") return answerMessage(wallet.keys, request);
      return answerBinding(wallet.keys, request);
    },
  });
  const refuse = useMutation({ mutationFn: () => decline(request) });
  if (approve.isSuccess)
    return <Finished request={request} result={approve.data} declined={false} />;
  if (refuse.isSuccess) return <Finished request={request} result={refuse.data} declined />;
  const busy = approve.isPending || refuse.isPending;
  const canApprove = gaps.length === 0 && !wrongIdentity && !wrongAccount && !unreadable;
  return (
    <>
      <h1>{request.kind === "signin" ? "Sign in" : "Signature requested"}</h1>
      <section aria-labelledby="who-title" className="card">
        <h2 id="who-title">Who asks</h2>
        <p className="who">
          <strong>{request.clientName}</strong> at{" "}
          <strong className="wrap">{request.origin}</strong>
        </p>
        <Notice tone="warning">
          Approve only if you are {request.kind === "signin" ? "signing in" : "doing this"}{" "}
          yourself, right now, on {request.origin}. Someone else's QR code or link would let them
          act as you.
        </Notice>
      </section>
      <section aria-labelledby="what-title" className="card">
        <h2 id="what-title">
          {request.kind === "signin" ? "What will be shared" : "What you would sign"}
        </h2>
        {request.kind === "signin" ? (
          <>
            <Shared
              matches={matches}
              picks={picks}
              onPick={(q, id) => setPicks({ ...picks, [q]: id })}
            />
            <p className="muted">Your identity {wallet.document.did} is shown with them.</p>
            {gaps.map((gap) => (
              <Notice key={gap.query.id} tone="error">
                The request needs a{" "}
                {gap.query.typeValues
                  .map((t) => t.filter((x) => x !== "VerifiableCredential").join(" "))
                  .join(" or ")}{" "}
                that your wallet does not hold.
              </Notice>
            ))}
          </>
        ) : (
          <>
            {request.signing.kind === "transaction" ? (
              <>
                <TransactionShown asked={request.signing} read={read} />
                {contracts.isError ? (
                  <Notice tone="error">{messageOf(contracts.error)}</Notice>
                ) : null}
              </>
            ) : (
              <p className="statement">
                {describeSigning(request.signing, wallet.document.address)}
              </p>
            )}
            {request.signing.kind === "message" ? (
              <blockquote className="message" aria-label="Message to sign">
                {request.signing.text}
              </blockquote>
            ) : null}
            {wrongAccount ? (
              <Notice tone="error" title="Not this wallet's account">
                The message is to be signed by another account than this wallet's (
                {wallet.document.address}).
              </Notice>
            ) : null}
            {foreignAudience(request.signing, request.origin) ? (
              <Notice tone="warning">
                {request.origin} asks for a link meant for another site. Approve only if you know
                why.
              </Notice>
            ) : null}
            {wrongIdentity ? (
              <Notice tone="error" title="Not this wallet's identity">
                The request is for {request.signing.did}, and this wallet holds{" "}
                {wallet.document.did}. Open it with the wallet of that identity.
              </Notice>
            ) : null}
          </>
        )}
      </section>
      {approve.isError ? (
        <Notice tone="error" title="Not accepted">
          {messageOf(approve.error)}
        </Notice>
      ) : null}
      {refuse.isError ? <Notice tone="error">{messageOf(refuse.error)}</Notice> : null}
      <div className="actions">
        {canApprove ? (
          <Button onPress={() => approve.mutate()} isDisabled={busy}>
            {request.kind === "signin" ? "Approve and sign in" : "Approve and sign"}
          </Button>
        ) : null}
        <Button tone="secondary" onPress={() => refuse.mutate()} isDisabled={busy}>
          Decline
        </Button>
      </div>
    </>
  );
}

function Fetched({ link }: { link: RequestLink }) {
  const request = useQuery({
    queryKey: ["request", link.requestUri],
    queryFn: () => fetchRequest(link),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
  if (request.isPending)
    return <p aria-live="polite">Reading the request from {new URL(link.requestUri).origin}…</p>;
  if (request.isError) {
    return (
      <Notice tone="error" title="This request cannot be answered">
        {messageOf(request.error)}
      </Notice>
    );
  }
  return <Answer request={request.data} />;
}

export function RequestPage({ link, error }: { link: RequestLink | null; error: string | null }) {
  if (link === null) {
    return (
      <Notice tone="error" title="Not a request link">
        {error}
      </Notice>
    );
  }
  return (
    <Gate purpose="A site asks your wallet for something. Unlock to see who asks and what for.">
      <Fetched link={link} />
    </Gate>
  );
}
