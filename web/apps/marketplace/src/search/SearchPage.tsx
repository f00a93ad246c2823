import { asApiError, messageFor } from "@kraken/api";
import { parseAmount } from "@kraken/core";
import { Alert, Button, EmptyState, Loading, MoreResults, SearchField } from "@kraken/ui";
import {
  keepPreviousData,
  useInfiniteQuery,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { getRouteApi, useRouter } from "@tanstack/react-router";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { productsQuery, tokenQuery } from "../lib/api";
import type { Token } from "../lib/types";
import { Filters } from "./Filters";
import { ProductCard } from "./ProductCard";
import { compactSearch, liveSearch, type ProductSearch } from "./searchState";
import { useDebouncedField } from "./useDebounced";

// Runs in the browser. Search and browse the catalog: the results follow the text as it
// is typed (a request that went stale is cancelled; the URL follows once typing pauses),
// every filter of the API in words, cursor paging with "More results". The URL holds
// the search.

const route = getRouteApi("/");
/** How long the typing pauses before the URL takes the text (the results do not wait). */
const URL_PAUSE_MS = 300;

/** Base units of a price typed in the search (thousands separators allowed, as people
 * write them); null when it is not an amount of the token (@kraken/core's parser). */
function unitsOf(text: string, decimals: number): bigint | null {
  try {
    return parseAmount(text.replace(/,/g, ""), decimals);
  } catch {
    return null;
  }
}

/** The price bounds in base units, or why a bound typed is not an amount. */
function priceBounds(search: ProductSearch, token: Token | undefined) {
  const units: { min?: string; max?: string } = {};
  const errors: { min?: string; max?: string } = {};
  for (const side of ["min", "max"] as const) {
    const text = search[`price_${side}`];
    if (!text) continue;
    if (token === undefined) {
      errors[side] = "Prices cannot be searched until the token's units are known.";
      continue;
    }
    const value = unitsOf(text, token.decimals);
    if (value === null)
      errors[side] =
        `Give an amount of ${token.symbol}, e.g. 2.5 (at most ${token.decimals} decimals).`;
    else units[side] = value.toString();
  }
  if (units.min && units.max && BigInt(units.min) > BigInt(units.max)) {
    errors.max = "The upper price is below the lower one.";
    delete units.max;
  }
  return { units, errors };
}

/** The search without its text, the same object while only the text changes (the
 * filters then keep from rendering again at every keystroke). */
function useFilters(search: ProductSearch): ProductSearch {
  const { q: _text, ...rest } = search;
  const key = JSON.stringify(rest); // the filters' value: equal filters, equal keys
  return useMemo(() => JSON.parse(key) as ProductSearch, [key]);
}

export function SearchPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const token = useQuery(tokenQuery);
  // A change still pending once the person has left the search page (a debounced
  // field, a result opened meanwhile) is dropped: it would pull them back.
  const router = useRouter();
  const update = useCallback(
    (change: Partial<ProductSearch>, replace = false) => {
      if (router.latestLocation.pathname !== "/") return;
      void navigate({ search: (previous) => compactSearch({ ...previous, ...change }), replace });
    },
    [navigate, router],
  );
  // The results follow the text at every keystroke; the URL takes it once the typing
  // pauses, or when the focus leaves the box (before a click on a result lands),
  // replacing its history entry (Back leaves the search rather than undoing letters).
  // The text is kept as typed (a trailing space included), or the field would lose the
  // space between two words.
  const text = useDebouncedField(
    search.q ?? "",
    (q) => {
      // "best match" needs words to match: without them the API refuses that order
      update(
        {
          q: q.trim() ? q : undefined,
          sort: !q.trim() && search.sort === "relevance" ? undefined : search.sort,
        },
        true,
      );
    },
    URL_PAUSE_MS,
  );
  const { price_min, price_max } = search;
  const { units, errors } = useMemo(
    () => priceBounds({ price_min, price_max }, token.data),
    [price_min, price_max, token.data],
  );
  const filters = useFilters(search);
  // The results follow the text as typed, at once: a keystroke's request cancels the
  // one before it (the query's AbortSignal) and the previous results stay on screen
  // until the new ones arrive. Only the URL waits for a pause in the typing.
  const live = liveSearch(search, text.value);
  const enabled = !token.isPending || (!search.price_min && !search.price_max);
  const results = useInfiniteQuery({
    ...productsQuery(live, units),
    placeholderData: keepPreviousData,
    enabled,
  });
  // A keystroke's request leaves before React renders the keystroke: the render then
  // finds it on its way (the same query) instead of starting it once it has committed.
  const queryClient = useQueryClient();
  const type = (value: string) => {
    text.change(value);
    if (enabled)
      void queryClient.prefetchInfiniteQuery(productsQuery(liveSearch(search, value), units));
  };
  const shownFor = results.isPlaceholderData || results.isPending ? undefined : (live.q ?? "");

  useEffect(() => {
    document.title = search.q ? `“${search.q}” · Kraken Market` : "Data products · Kraken Market";
  }, [search.q]);

  const products = results.data?.pages.flatMap((page) => page.items) ?? [];
  const [filtersOpen, setFiltersOpen] = useState(false);
  const active = Object.keys(search).filter((key) => key !== "q").length;
  // after "More results", the focus goes to the first new result (the button may be gone)
  const [focusFrom, setFocusFrom] = useState<number | null>(null);
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    if (focusFrom === null || products.length <= focusFrom) return;
    list.current?.children[focusFrom]?.querySelector("a")?.focus();
    setFocusFrom(null);
  }, [focusFrom, products.length]);

  return (
    <div className="m-search">
      <h1>Data products</h1>
      <search className="m-searchbar">
        <SearchField
          label="Search the catalog"
          value={text.value}
          onChange={type}
          onSubmit={text.flush}
          onBlur={text.settle}
          placeholder="heart rate, traffic, energy…"
          description="All the words you type must match; end a word with * to match its beginning."
          busy={results.isFetching}
        />
      </search>
      {/* on a phone the filters fold away behind this button (styles hide it on wide screens) */}
      <Button
        className="m-filters-toggle"
        aria-expanded={filtersOpen}
        aria-controls="filters"
        onPress={() => setFiltersOpen(!filtersOpen)}
      >
        {filtersOpen
          ? "Hide filters"
          : `Filters and order${active > 0 ? ` (${active} chosen)` : ""}`}
      </Button>
      <div className={`m-search-body${filtersOpen ? "" : " m-filters-folded"}`}>
        <Filters
          search={filters}
          hasText={Boolean(search.q)}
          update={update}
          symbol={token.data?.symbol}
          priceErrors={errors}
        />
        <section
          className="m-results"
          aria-labelledby="results-heading"
          aria-busy={results.isFetching}
          data-results-for={shownFor}
        >
          <h2 id="results-heading">Results</h2>
          {token.isError && (
            <Alert tone="warning" title="Prices are shown in base units">
              <p>{messageFor(asApiError(token.error))}</p>
            </Alert>
          )}
          {results.isPending ? (
            <Loading label="Searching…" />
          ) : results.isError && products.length === 0 ? (
            <Alert title="The search failed" onRetry={() => void results.refetch()}>
              <p>{messageFor(asApiError(results.error))}</p>
            </Alert>
          ) : products.length === 0 ? (
            <EmptyState title="No products match">
              <p>Try fewer words or filters, or other ones.</p>
            </EmptyState>
          ) : (
            <>
              <ol className="m-list" ref={list}>
                {products.map((product) => (
                  <li key={product.id}>
                    <ProductCard product={product} token={token.data} />
                  </li>
                ))}
              </ol>
              {results.isFetchNextPageError && (
                <Alert title="More results could not be loaded">
                  <p>{messageFor(asApiError(results.error))}</p>
                </Alert>
              )}
              <MoreResults
                shown={products.length}
                hasMore={results.hasNextPage}
                loading={results.isFetchingNextPage}
                onMore={() => {
                  setFocusFrom(products.length);
                  void results.fetchNextPage();
                }}
              />
            </>
          )}
        </section>
      </div>
    </div>
  );
}
