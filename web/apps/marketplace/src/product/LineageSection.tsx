import { asApiError, messageFor } from "@kraken/api";
import { Alert, Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { lineageQuery } from "../lib/api";
import type { LineageGraph, LineageNode } from "../lib/types";
import { availabilityName } from "../lib/words";
import { LineageDiagram } from "./LineageDiagram";

// Runs in the browser (its own chunk, loaded below the product's first screen, with the
// graph layout library). The product's lineage drawn as a graph, then as nested lists a
// screen reader walks like a tree: what it was derived from (ancestors, generation by
// generation) and what was derived from it.

type Way = "parents" | "children";

function Branch({
  graph,
  id,
  way,
  seen,
}: {
  graph: LineageGraph;
  id: string;
  way: Way;
  seen: Set<string>;
}) {
  const next = graph.edges
    .filter((edge) => (way === "parents" ? edge.child : edge.parent) === id)
    .map((edge) => (way === "parents" ? edge.parent : edge.child))
    .filter((other) => !seen.has(other));
  if (next.length === 0) return null;
  const nodes = new Map(graph.nodes.map((node) => [node.id, node]));
  return (
    <ul className="m-tree">
      {next.map((other) => {
        const node: LineageNode | undefined = nodes.get(other);
        return (
          <li key={other}>
            {node ? (
              <>
                <Link to="/products/$productId" params={{ productId: other }}>
                  {node.title}
                </Link>
                {node.availability !== "listed" && (
                  <span className="m-muted">
                    {" "}
                    ({availabilityName(node.availability).toLowerCase()})
                  </span>
                )}
              </>
            ) : (
              <code>{other}</code>
            )}
            <Branch graph={graph} id={other} way={way} seen={new Set([...seen, other])} />
          </li>
        );
      })}
    </ul>
  );
}

export default function LineageSection({ productId }: { productId: string }) {
  const lineage = useQuery(lineageQuery(productId));
  const graph = lineage.data;
  const root = new Set([productId]);
  const hasParents = graph?.edges.some((edge) => edge.child === productId) ?? false;
  const hasChildren = graph?.edges.some((edge) => edge.parent === productId) ?? false;
  return (
    <section aria-labelledby="lineage-heading">
      <h2 id="lineage-heading">Lineage</h2>
      {lineage.isPending ? (
        <Loading label="Loading the lineage…" />
      ) : lineage.isError ? (
        <Alert title="The lineage could not be loaded" onRetry={() => void lineage.refetch()}>
          <p>{messageFor(asApiError(lineage.error))}</p>
        </Alert>
      ) : !graph || (!hasParents && !hasChildren) ? (
        <p>This product was not derived from other products, and none was derived from it.</p>
      ) : (
        <div className="m-lineage">
          <LineageDiagram graph={graph} />
          <h3>Derived from</h3>
          {hasParents ? (
            <Branch graph={graph} id={productId} way="parents" seen={root} />
          ) : (
            <p>No other product: it is original data.</p>
          )}
          <h3>Used to make</h3>
          {hasChildren ? (
            <Branch graph={graph} id={productId} way="children" seen={root} />
          ) : (
            <p>No other product yet.</p>
          )}
        </div>
      )}
    </section>
  );
}
