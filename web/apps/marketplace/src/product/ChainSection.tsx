import { asApiError, messageFor } from "@kraken/api";
import { Alert, CopyText, Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { chainQuery } from "../lib/api";
import { amountInWords } from "../lib/prices";
import type { Product, Token } from "../lib/types";
import { qualityWords, timeInWords } from "../lib/words";

// Runs in the browser. What the chain says about the product, as the marketplace's
// indexer read it: never the seller's word. A product whose publication is announced
// but not yet indexed is shown as waiting for the chain, not as missing.

const DIFFERS: Record<string, string> = {
  metadata: "title, description or tags",
  policy: "policy",
  prices: "prices",
  availability: "availability",
};

export function ChainSection({ product, token }: { product: Product; token: Token | undefined }) {
  const chain = useQuery(chainQuery(product.id));
  return (
    <section aria-labelledby="chain-heading">
      <h2 id="chain-heading">On the chain</h2>
      {chain.isPending ? (
        <Loading label="Reading the chain…" />
      ) : chain.isError ? (
        <Alert title="The chain's view could not be loaded" onRetry={() => void chain.refetch()}>
          <p>{messageFor(asApiError(chain.error))}</p>
        </Alert>
      ) : !chain.data.published ? (
        chain.data.publishing_announced ? (
          <p className="m-status m-status-waiting" role="status">
            Published, waiting for the chain: the owner has sent it to the chain and the marketplace
            shows it here once the chain has confirmed it.
          </p>
        ) : (
          <p className="m-status">
            Not published on the chain yet: it cannot be bought until its owner publishes it.
          </p>
        )
      ) : (
        <dl className="m-facts m-facts-wide">
          <dt>Published</dt>
          <dd>
            {chain.data.published_at ? timeInWords(chain.data.published_at) : "yes"}
            {chain.data.transaction && (
              <>
                {" "}
                in transaction{" "}
                <CopyText text={chain.data.transaction} label="publication transaction hash" />
              </>
            )}
          </dd>
          <dt>Owner on chain</dt>
          <dd>
            {chain.data.owner && <CopyText text={chain.data.owner} label="owner account" />}{" "}
            {chain.data.verified
              ? "verified: the account is the catalog owner's own or the one they registered"
              : "not verified: this account is not vouched for by the catalog owner, buyers are not granted access"}
          </dd>
          <dt>Stake</dt>
          <dd>{amountInWords(chain.data.stake, token)}</dd>
          <dt>Quality</dt>
          <dd>
            {qualityWords(chain.data.quality)}
            {chain.data.release_at && chain.data.quality === "approving"
              ? ` (release after ${timeInWords(chain.data.release_at)})`
              : ""}
          </dd>
          <dt>Claims</dt>
          <dd>
            {chain.data.claims.open} open, {chain.data.claims.upheld} upheld,{" "}
            {chain.data.claims.rejected} rejected; {chain.data.approvals}{" "}
            {chain.data.approvals === 1 ? "approval" : "approvals"} by buyers
          </dd>
          {chain.data.differs.length > 0 && (
            <>
              <dt>Differs from the catalog</dt>
              <dd>
                The chain still holds the earlier{" "}
                {chain.data.differs.map((d) => DIFFERS[d] ?? d).join(", ")}: the owner has not sent
                the change to the chain yet.
              </dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}
