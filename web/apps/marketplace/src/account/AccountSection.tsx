import { ApiError, asApiError, messageFor } from "@kraken/api";
import { showAmount } from "@kraken/core";
import { Alert, Button, Loading } from "@kraken/ui";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, tokenQuery } from "../lib/api";
import { meQuery } from "../lib/session";
import type { Me, WalletRequestOutcome } from "../lib/types";
import { clock, useSecondsLeft, WalletQr, walletPageOf } from "../signin/WalletQr";
import { balanceQuery } from "./queries";

// Runs in the browser. The ledger account bound to your DID and its DATA; without one,
// the wallet is asked to bind it (POST /wallet-requests, kind bind_account): the wallet
// signs the binding with both keys, the page only learns the outcome.

export function AccountSection({ me }: { me: Me }) {
  return (
    <section className="m-section" aria-labelledby="account-title">
      <h2 id="account-title">Ledger account</h2>
      {me.account ? <Balance account={me.account} /> : <BindAccount />}
    </section>
  );
}

function Balance({ account }: { account: string }) {
  const token = useQuery(tokenQuery);
  const balance = useQuery(balanceQuery(account));
  return (
    <dl className="m-facts">
      <dt>Account</dt>
      <dd>
        <code className="m-break">{account}</code>
      </dd>
      <dt>Balance</dt>
      <dd>
        {balance.isError || token.isError
          ? messageFor(asApiError(balance.error ?? token.error))
          : balance.data !== undefined && token.data !== undefined
            ? showAmount(balance.data, token.data)
            : "…"}
      </dd>
    </dl>
  );
}

interface Started {
  transaction_id: string;
  wallet_url: string;
  expires_at: string;
}

function BindAccount() {
  const [started, setStarted] = useState<Started | null>(null);
  const start = useMutation({
    mutationFn: async (): Promise<Started> => {
      const { data } = await api.POST("/api/v1/wallet-requests", {
        body: { kind: "bind_account" },
      });
      if (data === undefined) throw new TypeError("the API answered without a body");
      return data;
    },
    onSuccess: setStarted,
  });
  if (started) return <BindWaiting request={started} onAgain={() => setStarted(null)} />;
  return (
    <div>
      <p>No ledger account is linked to your DID yet.</p>
      <Button variant="primary" onPress={() => start.mutate()}>
        Link your account through your wallet
      </Button>
      {start.isError && (
        <Alert title="The wallet could not be asked">{messageFor(asApiError(start.error))}</Alert>
      )}
    </div>
  );
}

function BindWaiting({ request, onAgain }: { request: Started; onAgain: () => void }) {
  const queryClient = useQueryClient();
  const secondsLeft = useSecondsLeft(request.expires_at);
  const result = useQuery({
    queryKey: ["wallet-request", request.transaction_id],
    queryFn: async (): Promise<WalletRequestOutcome> => {
      const { data } = await api.POST("/api/v1/wallet-requests/result", {
        body: { transaction_id: request.transaction_id },
      });
      if (data === undefined) throw new TypeError("the API answered without a body");
      return data;
    },
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
    retry: false,
    refetchInterval: (query) =>
      query.state.data === undefined || query.state.data.status === "pending" ? 1500 : false,
  });
  const status = result.data?.status;
  useEffect(() => {
    if (status === "done") void queryClient.invalidateQueries({ queryKey: meQuery.queryKey });
  }, [status, queryClient]);

  if (status === "done") return <Loading label="Linked. Reading your account…" />;
  if (result.isError || status === "refused" || status === "expired" || secondsLeft === 0) {
    const words = result.isError
      ? messageFor(asApiError(result.error))
      : status === "refused"
        ? messageFor(
            new ApiError(400, {
              code: result.data?.code ?? "refused",
              message: result.data?.message ?? "",
            }),
          )
        : "Nobody answered in time.";
    return (
      <div>
        <Alert title="Your account was not linked">{words}</Alert>
        <Button variant="primary" onPress={onAgain}>
          Start again
        </Button>
      </div>
    );
  }
  const cli = `kraken-market wallet answer '${request.wallet_url}'`;
  return (
    <div className="m-qr-box">
      <p>Scan this with your wallet: it shows what it signs and asks you first.</p>
      <WalletQr
        text={request.wallet_url}
        label="QR code of the account-linking request for your wallet"
      />
      <p>
        Expires in <span className="m-countdown">{clock(secondsLeft)}</span>.{" "}
        <a href={walletPageOf(request.wallet_url)}>Use the wallet in this browser</a>
      </p>
      <p>With the command-line wallet:</p>
      <pre className="m-command">
        <code data-testid="wallet-command">{cli}</code>
      </pre>
      <Loading label="Waiting for your wallet…" />
    </div>
  );
}
