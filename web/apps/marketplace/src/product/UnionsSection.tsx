import { asApiError, messageFor } from "@kraken/api";
import { Alert, Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { unionsQuery } from "../lib/api";

// Runs in the browser. The data unions the product is a member of (several owners'
// products sold together, once each owner consented).

export function UnionsSection({ productId }: { productId: string }) {
  const unions = useQuery(unionsQuery(productId));
  return (
    <section aria-labelledby="unions-heading">
      <h2 id="unions-heading">Data unions</h2>
      {unions.isPending ? (
        <Loading label="Loading the unions…" />
      ) : unions.isError ? (
        <Alert title="The unions could not be loaded" onRetry={() => void unions.refetch()}>
          <p>{messageFor(asApiError(unions.error))}</p>
        </Alert>
      ) : unions.data.length === 0 ? (
        <p>This product is in no data union.</p>
      ) : (
        <ul className="m-plain">
          {unions.data.map((union) => {
            const consented = union.members.filter((m) => m.consented).length;
            return (
              <li key={union.id}>
                <strong>{union.title}</strong>:{" "}
                {union.status === "active"
                  ? `active, ${union.members.length} products`
                  : union.status === "awaiting_chain"
                    ? "every owner agreed, waiting for the chain (not for sale yet)"
                    : `waiting for consent (${consented} of ${union.members.length} owners agreed)`}
                {union.description ? `. ${union.description}` : ""}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
