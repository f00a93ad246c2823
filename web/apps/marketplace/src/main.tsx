import "@kraken/ui/styles.css";
import "./marketplace.css";
import { ApiError } from "@kraken/api";
import {
  MutationCache,
  notifyManager,
  QueryCache,
  QueryClient,
  QueryClientProvider,
} from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { productsQuery, tokenQuery } from "./lib/api";
import { makeGuard } from "./lib/guard";
import { makeRouter } from "./router";
import { firstResultsOf } from "./search/searchState";

// Runs in the browser. The marketplace never holds an identity or account key:
// it asks the wallet (the wallet app at /wallet/, or the CLI wallet) for them.

// A query's answer reaches the page in the same task as it arrives (a microtask), not in
// a later timer task that may wait behind a frame: search as you type shows results that
// much sooner (bench/web.py). React batches the updates either way.
notifyManager.setScheduler(queueMicrotask);

// every 401 of a query or a mutation goes through one guard (lib/guard.ts)
let guard: (error: unknown) => Promise<void> = async () => {};
const onError = (error: unknown) => void guard(error);
const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // a refusal (4xx) stays a refusal; the server or network failing is tried again
      retry: (failures, error) =>
        failures < 2 && !(error instanceof ApiError && error.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});
// The first results are asked for now, while React and the router set the page up (a
// cold visit's first results show that much sooner); the search page's own query then
// finds them in the cache (the same query, lib/api.ts).
const first = firstResultsOf(window.location);
if (first !== null) {
  void queryClient.prefetchInfiniteQuery(productsQuery(first, {}));
  void queryClient.prefetchQuery(tokenQuery);
}
const router = makeRouter(queryClient);
guard = makeGuard(queryClient, ({ next, why, company }) => {
  void router.navigate({ to: "/signin", search: { next, why, company }, replace: true });
});

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
