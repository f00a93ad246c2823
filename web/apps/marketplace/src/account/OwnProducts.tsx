import { asApiError, messageFor } from "@kraken/api";
import { Alert, DataTable, EmptyState, Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { tokenQuery } from "../lib/api";
import { priceInWords } from "../lib/prices";
import type { Product } from "../lib/types";
import { availabilityName, modeName } from "../lib/words";
import { ownProductsQuery } from "./queries";

// Runs in the browser. The products of whom you act for (you, or your company), in
// every availability: listed, paused and retired.

export function OwnProducts({ owner }: { owner: string }) {
  const products = useQuery(ownProductsQuery(owner));
  const token = useQuery(tokenQuery);
  return (
    <section className="m-section" aria-labelledby="products-title">
      <h2 id="products-title">Your products</h2>
      {products.isPending ? (
        <Loading label="Reading your products…" />
      ) : products.isError ? (
        <Alert title="Your products could not be read">
          {messageFor(asApiError(products.error))}
        </Alert>
      ) : products.data.length === 0 ? (
        <EmptyState title="No products yet" />
      ) : (
        <DataTable<Product>
          label="Your products"
          rows={products.data}
          rowKey={(p) => p.id}
          columns={[
            {
              id: "title",
              name: "Product",
              isRowHeader: true,
              cell: (p) => (
                <Link to="/products/$productId" params={{ productId: p.id }}>
                  {p.title}
                </Link>
              ),
            },
            { id: "mode", name: "Kind", cell: (p) => modeName(p.access_mode) },
            {
              id: "availability",
              name: "Availability",
              cell: (p) => availabilityName(p.availability),
            },
            { id: "price", name: "Price", cell: (p) => priceInWords(p, token.data) },
          ]}
        />
      )}
    </section>
  );
}
