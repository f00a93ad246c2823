import { DataTable } from "@kraken/ui";
import type { Column, Product } from "../lib/types";

// Runs in the browser. The data's columns: what buyers may compute on, with types,
// units and the ranges that bound the fixed-point encoding.

function details(column: Column): string {
  if (column.type === "categorical") return `one of: ${column.categories.join(", ")}`;
  const unit = column.unit ? ` ${column.unit}` : "";
  if (column.min != null && column.max != null) return `from ${column.min} to ${column.max}${unit}`;
  if (column.min != null) return `at least ${column.min}${unit}`;
  if (column.max != null) return `at most ${column.max}${unit}`;
  return unit ? `in${unit}` : "any number";
}

export function SchemaSection({ product }: { product: Product }) {
  const columns = product.schema?.columns;
  return (
    <section aria-labelledby="schema-heading">
      <h2 id="schema-heading">Schema</h2>
      {columns ? (
        <DataTable<Column>
          label="Columns of the data"
          rows={columns}
          rowKey={(column) => column.name}
          columns={[
            {
              id: "name",
              name: "Column",
              isRowHeader: true,
              // The seller's own name of the column; computations use the identifier.
              cell: (c) =>
                c.label ? (
                  <>
                    {c.label} (computed as <code>{c.name}</code>)
                  </>
                ) : (
                  <code>{c.name}</code>
                ),
            },
            {
              id: "type",
              name: "Type",
              cell: (c) => (c.type === "numeric" ? "Number" : "Category"),
            },
            { id: "values", name: "Values", cell: details },
            { id: "empty", name: "May be empty", cell: (c) => (c.nullable ? "Yes" : "No") },
            { id: "about", name: "About", cell: (c) => c.description ?? "" },
          ]}
        />
      ) : (
        <p>This file has no declared schema (it is sold as it is).</p>
      )}
    </section>
  );
}
