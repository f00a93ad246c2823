import { asApiError, messageFor } from "@kraken/api";
import { Alert, Button, Select } from "@kraken/ui";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate, useRouter, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { companiesQuery } from "../lib/api";
import { useMe, whySignedOut } from "../lib/session";
import { CrossDevice } from "./CrossDevice";
import { keepPending, type Started, safeNext, startSignIn, stillSigningIn } from "./flow";
import type { SignInSearch } from "./search";
import { walletPageOf } from "./WalletQr";

// Runs in the browser. /signin: the person's wallet presents their credentials
// (OpenID4VP): a QR code for a wallet on another device (the phone's web wallet, or the
// CLI wallet answering the link's text), or the web wallet in this browser.

const MYSELF = "myself";

export function SignInPage() {
  const search = useSearch({ strict: false }) as SignInSearch;
  const next = safeNext(search.next);
  const me = useMe();
  const navigate = useNavigate();
  const router = useRouter();
  const companies = useQuery(companiesQuery);
  const [actFor, setActFor] = useState<string>(MYSELF);
  const [started, setStarted] = useState<Started | null>(null);
  const start = useMutation({
    mutationFn: (flow: "cross_device" | "same_device") =>
      startSignIn(flow, actFor === MYSELF ? null : actFor),
    onSuccess: (request, flow) => {
      if (flow === "same_device") {
        keepPending(request.transaction_id, next);
        window.location.assign(walletPageOf(request.wallet_url));
      } else {
        setStarted(request);
      }
    },
  });
  const choices = [
    { id: MYSELF, name: "Myself (as a person)" },
    ...[...(companies.data ?? new Map<string, string>())].map(([did, name]) => ({ id: did, name })),
  ];

  return (
    <div className="m-page m-signin">
      <h1>Sign in with your wallet</h1>
      {search.why && (
        <Alert tone="warning" title="You were signed out">
          <p>{whySignedOut(search.why, "", search.company ?? null)}</p>
        </Alert>
      )}
      {me && (
        <p className="m-note">
          You are signed in as {me.name}. Signing in again replaces this session.{" "}
          <a href="/account">Your account</a>
        </p>
      )}
      <p className="m-lead">
        Your wallet shows who asks and what it would share, and asks you to confirm. The marketplace
        never sees your keys.
      </p>
      {started === null ? (
        <>
          <Select
            label="Act for"
            description="To act for a company, your wallet needs an attorney credential from it."
            value={actFor}
            onChange={setActFor}
            choices={choices}
          />
          <div className="m-actions">
            <Button variant="primary" onPress={() => start.mutate("cross_device")}>
              Show a QR code for my wallet
            </Button>
            <Button onPress={() => start.mutate("same_device")}>
              Use the wallet in this browser
            </Button>
          </div>
          {start.isError && (
            <Alert title="The sign-in could not start">{messageFor(asApiError(start.error))}</Alert>
          )}
        </>
      ) : (
        <CrossDevice
          request={started}
          onAgain={() => {
            setStarted(null);
            start.reset();
          }}
          onSignedIn={() => {
            if (stillSigningIn(router)) void navigate({ to: next, replace: true });
          }}
        />
      )}
    </div>
  );
}
