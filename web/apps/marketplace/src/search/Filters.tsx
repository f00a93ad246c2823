import { CheckboxGroup, Fieldset, Select, TextField } from "@kraken/ui";
import { memo } from "react";
import {
  type AccessMode,
  AVAILABILITIES,
  BUYER_CATEGORIES,
  type BuyerCategory,
  MODES,
  PURPOSES,
  type Purpose,
  SORTS,
  type Sort,
} from "../lib/words";
import type { ProductSearch } from "./searchState";
import { useDebouncedField } from "./useDebounced";

// Runs in the browser. Every filter and sort order of GET /api/v1/products, in words.
// Memoised: typing in the search box changes only the text, so the filters (react-aria
// selects, the heaviest part of the page to render) are not rendered again per key.

const ANY = "any";
type Any = typeof ANY;

export interface FiltersProps {
  /** The search's filters; its text only says whether there is one (`hasText`). */
  search: ProductSearch;
  hasText: boolean;
  update: (change: Partial<ProductSearch>) => void;
  symbol: string | undefined;
  priceErrors: { min?: string; max?: string };
}

function withAny<K extends string>(list: readonly { id: K; name: string }[], anyName: string) {
  return [{ id: ANY as K | Any, name: anyName }, ...list];
}

export const Filters = memo(function Filters({
  search,
  hasText,
  update,
  symbol,
  priceErrors,
}: FiltersProps) {
  const tags = useDebouncedField((search.tag ?? []).join(" "), (text) =>
    update({
      tag: [
        ...new Set(
          text
            .toLowerCase()
            .split(/[\s,]+/)
            .filter(Boolean),
        ),
      ],
    }),
  );
  const owner = useDebouncedField(search.owner ?? "", (text) => update({ owner: text.trim() }));
  const priceMin = useDebouncedField(
    search.price_min ?? "",
    (text) => update({ price_min: text.trim() }),
    500,
  );
  const priceMax = useDebouncedField(
    search.price_max ?? "",
    (text) => update({ price_max: text.trim() }),
    500,
  );
  const sorts = hasText ? SORTS : SORTS.filter((s) => s.id !== "relevance");
  const unit = symbol ?? "tokens";

  return (
    <section id="filters" className="m-filters" aria-labelledby="filters-heading">
      <h2 id="filters-heading">Filters</h2>
      <Select<Sort | Any>
        label="Order"
        value={search.sort ?? ANY}
        choices={[{ id: ANY, name: hasText ? "Best match" : "Newest first" }, ...sorts]}
        onChange={(sort) => update({ sort: sort === ANY ? undefined : sort })}
      />
      <Select<AccessMode | Any>
        label="Kind of data"
        value={search.mode ?? ANY}
        choices={withAny(MODES, "Any kind")}
        onChange={(mode) => update({ mode: mode === ANY ? undefined : mode })}
      />
      <Select<Purpose | Any>
        label="Allowed purpose"
        value={search.purpose ?? ANY}
        choices={withAny(PURPOSES, "Any purpose")}
        onChange={(purpose) => update({ purpose: purpose === ANY ? undefined : purpose })}
      />
      <Select<BuyerCategory | Any>
        label="Sold to"
        value={search.buyer_category ?? ANY}
        choices={withAny(BUYER_CATEGORIES, "Any buyer")}
        onChange={(category) => update({ buyer_category: category === ANY ? undefined : category })}
      />
      <Fieldset legend={`Price (${unit})`}>
        <TextField
          label="From"
          inputMode="decimal"
          value={priceMin.value}
          onChange={priceMin.change}
          isInvalid={priceErrors.min !== undefined}
          errorMessage={priceErrors.min}
        />
        <TextField
          label="Up to"
          inputMode="decimal"
          value={priceMax.value}
          onChange={priceMax.change}
          isInvalid={priceErrors.max !== undefined}
          errorMessage={priceErrors.max}
          description="Per access, per second of a stream or per computation"
        />
      </Fieldset>
      <CheckboxGroup
        label="Availability"
        value={search.availability?.length ? search.availability : ["listed"]}
        choices={AVAILABILITIES}
        onChange={(availability) => update({ availability })}
        description="Products for sale now, unless you choose others"
      />
      <TextField
        label="Tags"
        value={tags.value}
        onChange={tags.change}
        description="All of these tags, separated by spaces"
      />
      <TextField
        label="Seller"
        value={owner.value}
        onChange={owner.change}
        description="The seller's DID (did:key:…), as shown on a product"
      />
    </section>
  );
});
