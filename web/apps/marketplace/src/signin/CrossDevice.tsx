import { asApiError, messageFor } from "@kraken/api";
import { Alert, Button, Loading } from "@kraken/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { refusalOf, resultOf, type Started, signedIn } from "./flow";
import { clock, useSecondsLeft, WalletQr } from "./WalletQr";

// Runs in the browser. A cross-device sign-in under way: the QR code (and its text, for
// the CLI wallet), a countdown to its expiry, and the result polled every 1.5 s until
// the wallet answered, the answer was refused, or the request expired.

interface Props {
  request: Started;
  onAgain: () => void;
  onSignedIn: () => void;
}

export function CrossDevice({ request, onAgain, onSignedIn }: Props) {
  const queryClient = useQueryClient();
  const secondsLeft = useSecondsLeft(request.expires_at);
  const result = useQuery({
    queryKey: ["signin", request.transaction_id],
    queryFn: () => resultOf(request.transaction_id),
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
    retry: false,
    refetchInterval: (query) =>
      query.state.data === undefined || query.state.data.status === "pending" ? 1500 : false,
  });
  const status = result.data?.status;

  useEffect(() => {
    if (status === "signed_in") void signedIn(queryClient).then(onSignedIn);
  }, [status, queryClient, onSignedIn]);

  if (result.isError) {
    return (
      <Alert title="The sign-in could not finish" onRetry={onAgain}>
        {messageFor(asApiError(result.error))}
      </Alert>
    );
  }
  if (status === "signed_in") return <Loading label="Signed in. Opening your page…" />;
  if (status === "refused" && result.data) {
    return (
      <div>
        <Alert title="Your wallet's answer was refused">{messageFor(refusalOf(result.data))}</Alert>
        <Button variant="primary" onPress={onAgain}>
          Start again
        </Button>
      </div>
    );
  }
  if (status === "expired" || secondsLeft === 0) {
    return (
      <div>
        <Alert tone="warning" title="This QR code has expired">
          Nobody answered it in time. Start again for a new one.
        </Alert>
        <Button variant="primary" onPress={onAgain}>
          Start again
        </Button>
      </div>
    );
  }
  const cli = `kraken-market wallet answer '${request.wallet_url}'`;
  return (
    <section aria-labelledby="qr-title" className="m-qr-box">
      <h2 id="qr-title">Scan this with your wallet</h2>
      <WalletQr text={request.wallet_url} label="QR code of the sign-in request for your wallet" />
      <p role="timer" aria-live="off">
        Expires in <span className="m-countdown">{clock(secondsLeft)}</span>
      </p>
      <p>With the command-line wallet, answer it with:</p>
      <pre className="m-command">
        <code data-testid="wallet-command">{cli}</code>
      </pre>
      <Loading label="Waiting for your wallet…" />
      <Button variant="quiet" onPress={onAgain}>
        Cancel
      </Button>
    </section>
  );
}
