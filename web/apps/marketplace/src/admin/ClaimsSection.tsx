import { asApiError, messageFor } from "@kraken/api";
import { showAmount } from "@kraken/core";
import { Alert, Button, EmptyState, Loading } from "@kraken/ui";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { api, productQuery, tokenQuery } from "../lib/api";
import type { Claim } from "../lib/types";
import { openClaimsQuery } from "./queries";

// Runs in the browser. Claims waiting for a ruling (arbiters and admins): the
// claimant's evidence statement, the product, the bond; uphold (the seller's stake goes
// to the claimant, the product is delisted) or reject (the bond goes to the seller),
// each confirmed first: a ruling is a transaction on chain and cannot be undone.

export function ClaimsSection({ mayRule }: { mayRule: boolean }) {
  const claims = useQuery(openClaimsQuery);
  return (
    <section className="m-section" aria-labelledby="claims-title">
      <h2 id="claims-title">Claims waiting for a ruling</h2>
      {claims.isPending ? (
        <Loading label="Reading the claims…" />
      ) : claims.isError ? (
        <Alert title="The claims could not be read">{messageFor(asApiError(claims.error))}</Alert>
      ) : claims.data.length === 0 ? (
        <EmptyState title="No claim is waiting" />
      ) : (
        <>
          {!mayRule && <p className="m-note">Ruling on a claim needs the platform role arbiter.</p>}
          <ul className="m-list">
            {claims.data.map((claim) => (
              <ClaimRow key={claim.purchase_id} claim={claim} mayRule={mayRule} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** The ruling's answer (the spec types it as a free object). */
interface Ruled {
  purchase_id: number;
  upheld: boolean;
  transaction: string;
}

function ClaimRow({ claim, mayRule }: { claim: Claim; mayRule: boolean }) {
  const queryClient = useQueryClient();
  const token = useQuery(tokenQuery);
  const product = useQuery(productQuery(claim.product_id));
  const [asking, setAsking] = useState<boolean | null>(null);
  const rule = useMutation({
    mutationFn: async (uphold: boolean): Promise<Ruled> => {
      const { data } = await api.POST("/api/v1/claims/{purchase_id}/ruling", {
        params: { path: { purchase_id: claim.purchase_id } },
        body: { uphold },
      });
      return data as unknown as Ruled;
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["admin", "claims"] });
      void queryClient.invalidateQueries({ queryKey: ["product", claim.product_id] });
    },
  });
  const title = product.data?.title ?? "a product";
  return (
    <li className="m-card">
      <h3 className="m-card-title">
        Claim on{" "}
        <Link to="/products/$productId" params={{ productId: claim.product_id }}>
          {title}
        </Link>
      </h3>
      <dl className="m-facts">
        <dt>Purchase</dt>
        <dd>{claim.purchase_id}</dd>
        <dt>Claimant</dt>
        <dd>
          <code className="m-break">{claim.claimant}</code>
        </dd>
        <dt>Bond</dt>
        <dd>{token.data ? showAmount(claim.bond, token.data) : `${claim.bond} base units`}</dd>
        <dt>Evidence</dt>
        <dd>{claim.statement ?? "No statement was recorded (only its hash is on chain)."}</dd>
      </dl>
      {rule.isSuccess ? (
        <p className="m-status" role="status">
          {rule.data?.upheld ? "Upheld" : "Rejected"} on chain (transaction{" "}
          <code>{rule.data?.transaction}</code>); the claim leaves this list once the chain's event
          is indexed.
        </p>
      ) : !mayRule ? null : asking === null ? (
        <div className="m-actions">
          <Button onPress={() => setAsking(true)}>Uphold…</Button>
          <Button onPress={() => setAsking(false)}>Reject…</Button>
        </div>
      ) : (
        <div className="m-confirm">
          <p>
            {asking
              ? `Uphold the claim? The seller's stake on "${title}" goes to the claimant and the product is delisted.`
              : `Reject the claim? The claimant's bond goes to the seller of "${title}".`}
          </p>
          <div className="m-actions">
            <Button
              variant="primary"
              isDisabled={rule.isPending}
              onPress={() => rule.mutate(asking)}
            >
              {asking ? "Uphold the claim" : "Reject the claim"}
            </Button>
            <Button variant="quiet" onPress={() => setAsking(null)}>
              Cancel
            </Button>
          </div>
        </div>
      )}
      {rule.isPending && <Loading label="Recording the ruling on chain…" />}
      {rule.isError && (
        <Alert title="The ruling was not recorded">{messageFor(asApiError(rule.error))}</Alert>
      )}
    </li>
  );
}
