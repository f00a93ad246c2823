import { Link } from "@tanstack/react-router";
import { memo } from "react";
import { amountInWords, priceInWords } from "../lib/prices";
import type { Product, Token } from "../lib/types";
import {
  availabilityName,
  buyerCategoryName,
  listInWords,
  modeName,
  purposeName,
  regionName,
} from "../lib/words";
import { SellerName } from "./SellerName";

// Runs in the browser. One search result: what it is, its price, who may buy it for
// what, and who sells it, in words. Memoised: the query cache keeps a product's object
// while it is unchanged, so a keystroke's renders leave the cards on screen alone.

export const ProductCard = memo(function ProductCard({
  product,
  token,
}: {
  product: Product;
  token: Token | undefined;
}) {
  const { policy } = product;
  return (
    <article className="m-card" aria-labelledby={`title-${product.id}`}>
      <h3 id={`title-${product.id}`} className="m-card-title">
        <Link to="/products/$productId" params={{ productId: product.id }}>
          {product.title}
        </Link>
      </h3>
      <p className="m-card-meta">
        <span className="m-badge">{modeName(product.access_mode)}</span>{" "}
        <strong>{priceInWords(product, token)}</strong>
        {product.availability !== "listed" && (
          <span className="m-badge m-badge-muted"> {availabilityName(product.availability)}</span>
        )}
      </p>
      {product.description && <p className="m-card-description">{product.description}</p>}
      <dl className="m-facts">
        <dt>For</dt>
        <dd>{listInWords(policy.purposes.map(purposeName))}</dd>
        <dt>Sold to</dt>
        <dd>{listInWords((policy.buyer_categories ?? []).map(buyerCategoryName))}</dd>
        <dt>Buyers from</dt>
        <dd>{policy.regions?.length ? listInWords(policy.regions.map(regionName)) : "anywhere"}</dd>
        <dt>Seller</dt>
        <dd>
          <SellerName did={product.owner} />
        </dd>
        {product.stake !== "0" && (
          <>
            <dt>Stake</dt>
            <dd>
              {amountInWords(product.stake, token)}
              {product.stake_on_chain ? " (on chain)" : " (declared)"}
            </dd>
          </>
        )}
      </dl>
      {product.tags.length > 0 && (
        <ul className="m-tags" aria-label="Tags">
          {product.tags.map((tag) => (
            <li key={tag}>{tag}</li>
          ))}
        </ul>
      )}
    </article>
  );
});
