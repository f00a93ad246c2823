import type { QueryClient } from "@tanstack/react-query";
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  redirect,
} from "@tanstack/react-router";
import { Layout } from "./layout/Layout";
import { NotFoundPage } from "./layout/NotFoundPage";
import { RouteError } from "./layout/RouteError";
import { SearchPage } from "./search/SearchPage";
import { parseProductSearch, parseSearch, stringifySearch } from "./search/searchState";

// Runs in the browser. The marketplace's pages, named after what they show. The API
// answers every non-API path with index.html, so each of these URLs is a deep link.
// Sign-in (/signin), account and admin pages are added here as routes of their own.

export interface RouterContext {
  queryClient: QueryClient;
}

const root = createRootRouteWithContext<RouterContext>()({
  component: Layout,
  notFoundComponent: NotFoundPage,
  errorComponent: RouteError,
});

const search = createRoute({
  getParentRoute: () => root,
  path: "/",
  validateSearch: parseProductSearch,
  component: SearchPage,
});

// /products is the catalog too: links written that way land on the search
const products = createRoute({
  getParentRoute: () => root,
  path: "/products",
  validateSearch: parseProductSearch,
  beforeLoad: ({ search }) => {
    throw redirect({ to: "/", search, replace: true });
  },
});

const product = createRoute({
  getParentRoute: () => root,
  path: "/products/$productId",
  // the product page and its chain view load on first visit, not with the search page
  component: lazyRouteComponent(() => import("./product/ProductPage"), "ProductPage"),
});

const routeTree = root.addChildren([search, products, product]);

export function makeRouter(queryClient: QueryClient) {
  return createRouter({
    routeTree,
    context: { queryClient },
    parseSearch,
    stringifySearch,
    defaultPreload: "intent",
    defaultErrorComponent: RouteError,
    scrollRestoration: true,
  });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof makeRouter>;
  }
}
