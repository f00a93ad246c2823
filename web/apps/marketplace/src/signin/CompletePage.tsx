import { asApiError, messageFor } from "@kraken/api";
import { Alert, Loading } from "@kraken/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useRouter } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { refusalOf, resultOf, signedIn, stillSigningIn, takePending } from "./flow";

// Runs in the browser. /signin/complete#response_code=…: where the web wallet sends the
// browser back after a same-device sign-in. The result is redeemed with the transaction
// id this tab kept and the one-time response code (both are then forgotten: the code
// leaves the address bar at once).

function takeResponseCode(): string | null {
  const code = new URLSearchParams(window.location.hash.slice(1)).get("response_code");
  if (window.location.hash) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return code;
}

interface Pending {
  code: string | null;
  started: { transactionId: string; next: string } | null;
}

// read once per page load (StrictMode renders and initialises twice in development)
let taken: Pending | undefined;
function takeOnce(): Pending {
  taken ??= { code: takeResponseCode(), started: takePending() };
  return taken;
}

export function CompletePage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const router = useRouter();
  const [pending] = useState(takeOnce);
  const result = useQuery({
    queryKey: ["signin-complete", pending.started?.transactionId],
    enabled: pending.code !== null && pending.started !== null,
    queryFn: () => resultOf(pending.started?.transactionId ?? "", pending.code ?? undefined),
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  const status = result.data?.status;
  useEffect(() => {
    if (status === "signed_in") {
      void signedIn(queryClient).then(() => {
        if (stillSigningIn(router))
          void navigate({ to: pending.started?.next ?? "/", replace: true });
      });
    }
  }, [status, queryClient, navigate, router, pending]);

  let problem: string | null = null;
  if (pending.code === null) problem = "The wallet did not send a response code back.";
  else if (pending.started === null)
    problem = "This browser tab did not start a sign-in (or it was finished already).";
  else if (result.isError) problem = messageFor(asApiError(result.error));
  else if (status === "refused" && result.data) problem = messageFor(refusalOf(result.data));
  else if (status === "expired")
    problem = "The sign-in request expired before the wallet answered.";

  return (
    <div className="m-page">
      <h1>Signing you in</h1>
      {problem === null ? (
        <Loading label="Finishing the sign-in…" />
      ) : (
        <Alert title="The sign-in did not finish">
          <p>{problem}</p>
          <p>
            <a href="/signin">Start again</a>
          </p>
        </Alert>
      )}
    </div>
  );
}
