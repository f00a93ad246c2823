import { asApiError, messageFor } from "@kraken/api";
import { Alert } from "@kraken/ui";
import { type ErrorComponentProps, useRouter } from "@tanstack/react-router";

// Runs in the browser. What a page that failed to render shows instead (the router's
// error boundary): the failure in words and a way to try again.

export function RouteError({ error, reset }: ErrorComponentProps) {
  const router = useRouter();
  return (
    <Alert
      title="This page could not be shown"
      onRetry={() => {
        reset();
        void router.invalidate();
      }}
    >
      <p>{messageFor(asApiError(error))}</p>
    </Alert>
  );
}
