import { asApiError, messageFor } from "@kraken/api";
import { Alert, Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { lazy, Suspense, useEffect } from "react";
import { productQuery, tokenQuery } from "../lib/api";
import { priceInWords } from "../lib/prices";
import { availabilityName, MODES, modeName } from "../lib/words";
import { SellerName } from "../search/SellerName";
import { ChainSection } from "./ChainSection";
import { PolicySection } from "./PolicySection";
import { ProvenanceSection } from "./ProvenanceSection";
import { SchemaSection } from "./SchemaSection";
import { SellerSection } from "./SellerSection";
import { UnionsSection } from "./UnionsSection";

// Runs in the browser (a chunk of its own, loaded on the first visit of a product).
// Everything a buyer wants to know before buying: what the data is, its schema, the
// policy, the price, the seller, and what the chain knows of it.

const route = getRouteApi("/products/$productId");
// the lineage graph is the heaviest part and below the fold: its own chunk
const LineageSection = lazy(() => import("./LineageSection"));

export function ProductPage() {
  const { productId } = route.useParams();
  const id = productId.toLowerCase();
  const product = useQuery(productQuery(id));
  const token = useQuery(tokenQuery);

  useEffect(() => {
    if (product.data) document.title = `${product.data.title} · Kraken Market`;
    else if (product.isError) document.title = "Product not found · Kraken Market";
  }, [product.data, product.isError]);

  if (product.isPending) return <Loading label="Loading the product…" />;
  if (product.isError) {
    const error = asApiError(product.error);
    const missing = error.status === 404 || error.code === "validation_error";
    return (
      <>
        <h1>{missing ? "Product not found" : "The product could not be loaded"}</h1>
        <Alert
          title={missing ? "There is no such product" : "Loading failed"}
          onRetry={missing ? undefined : () => void product.refetch()}
        >
          <p>{messageFor(error)}</p>
        </Alert>
        <p>
          <Link to="/">Search the catalog</Link>
        </p>
      </>
    );
  }

  const data = product.data;
  const mode = MODES.find((m) => m.id === data.access_mode);
  return (
    <article className="m-product" aria-labelledby="product-title">
      <p className="m-crumbs">
        <Link to="/">Data products</Link> › {modeName(data.access_mode)}
      </p>
      <h1 id="product-title">{data.title}</h1>
      <p className="m-lead">
        <span className="m-badge">{modeName(data.access_mode)}</span> {mode?.what}.{" "}
        <strong>{priceInWords(data, token.data)}</strong>. {availabilityName(data.availability)}.
      </p>
      <p>
        Sold by <SellerName did={data.owner} />
      </p>
      {data.description ? (
        <p className="m-description">{data.description}</p>
      ) : (
        <p className="m-muted">No description.</p>
      )}
      {data.tags.length > 0 && (
        <ul className="m-tags" aria-label="Tags">
          {data.tags.map((tag) => (
            <li key={tag}>{tag}</li>
          ))}
        </ul>
      )}
      <SchemaSection product={data} />
      <PolicySection product={data} />
      <ChainSection product={data} token={token.data} />
      <SellerSection did={data.owner} />
      <ProvenanceSection product={data} />
      <Suspense fallback={<Loading label="Loading the lineage…" />}>
        <LineageSection productId={data.id} />
      </Suspense>
      <UnionsSection productId={data.id} />
    </article>
  );
}
