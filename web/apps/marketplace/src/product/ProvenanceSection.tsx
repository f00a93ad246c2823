import { asApiError, messageFor } from "@kraken/api";
import { Alert, CopyText, Loading, shorten } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { chainQuery, historyQuery } from "../lib/api";
import type { Product, Revision } from "../lib/types";
import { eventName, timeInWords } from "../lib/words";

// Runs in the browser. The product's provenance as one timeline, oldest first: every
// change to its catalog entry (who changed what) and every event the chain recorded
// (with its transaction).

interface Moment {
  at: string;
  key: string;
  what: string;
  by?: string;
  transaction?: string;
}

const FIELDS: Record<string, string> = {
  title: "title",
  description: "description",
  tags: "tags",
  prices: "prices",
  policy: "policy",
  availability: "availability",
  parents: "parents",
  storage_links: "storage links",
};

function revisionWords(revision: Revision): string {
  if (revision.action === "created") return "Listed in the catalog";
  if (revision.action === "retired")
    return `Retired${revision.reason ? `: ${revision.reason}` : ""}`;
  const changed = Object.keys(revision.changes).map((field) => FIELDS[field] ?? field);
  return changed.length > 0 ? `Changed its ${changed.join(", ")}` : "Updated";
}

export function ProvenanceSection({ product }: { product: Product }) {
  const history = useQuery(historyQuery(product.id));
  const chain = useQuery(chainQuery(product.id));
  const moments: Moment[] = [
    ...(history.data ?? []).map((r) => ({
      at: r.at,
      key: `v${r.version}`,
      what: revisionWords(r),
      by: r.actor,
    })),
    ...(chain.data?.events ?? []).map((e, index) => ({
      at: e.at,
      key: `e${index}`,
      what: `${eventName(e.name)} (block ${e.block})`,
      transaction: e.transaction,
    })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  return (
    <section aria-labelledby="provenance-heading">
      <h2 id="provenance-heading">Provenance</h2>
      {history.isPending || chain.isPending ? (
        <Loading label="Loading the history…" />
      ) : history.isError ? (
        <Alert title="The history could not be loaded" onRetry={() => void history.refetch()}>
          <p>{messageFor(asApiError(history.error))}</p>
        </Alert>
      ) : (
        <ol className="m-timeline" aria-label="Provenance timeline, oldest first">
          {moments.map((moment) => (
            <li key={moment.key}>
              <time dateTime={moment.at}>{timeInWords(moment.at)}</time>
              <span className="m-timeline-what">{moment.what}</span>
              {moment.by && (
                <span className="m-muted">
                  {" "}
                  by <code title={moment.by}>{shorten(moment.by, 14)}</code>
                </span>
              )}
              {moment.transaction && (
                <span>
                  {" "}
                  transaction{" "}
                  <CopyText
                    text={moment.transaction}
                    label={`transaction hash of ${moment.what}`}
                  />
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
