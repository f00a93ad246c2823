import { asApiError, messageFor } from "@kraken/api";
import { Alert, DataTable, EmptyState, Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import type { Node } from "../lib/types";
import { nodesQuery } from "./queries";

// Runs in the browser. The compute nodes registered on chain, and whether each answers.

export function NodesSection() {
  const nodes = useQuery(nodesQuery);
  return (
    <section className="m-section" aria-labelledby="nodes-title">
      <h2 id="nodes-title">Compute nodes</h2>
      {nodes.isPending ? (
        <Loading label="Asking the nodes…" />
      ) : nodes.isError ? (
        <Alert title="The nodes could not be read">{messageFor(asApiError(nodes.error))}</Alert>
      ) : nodes.data.length === 0 ? (
        <EmptyState title="No node is registered" />
      ) : (
        <DataTable<Node>
          label="Compute nodes"
          rows={nodes.data}
          rowKey={(n) => n.account}
          columns={[
            { id: "endpoint", name: "Address", isRowHeader: true, cell: (n) => n.endpoint },
            { id: "account", name: "Account", cell: (n) => <code>{n.account}</code> },
            {
              id: "answering",
              name: "State",
              cell: (n) => (n.answering ? "Answering" : "Not answering"),
            },
          ]}
        />
      )}
    </section>
  );
}
