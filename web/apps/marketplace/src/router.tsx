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
import { parseSignInSearch } from "./signin/search";

// Runs in the browser. The marketplace's pages, named after what they show. The API
// answers every non-API path with index.html, so each of these URLs is a deep link.
// The signed-in pages (sign-in, account, admin) load on first visit.

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

const signIn = createRoute({
  getParentRoute: () => root,
  path: "/signin",
  validateSearch: parseSignInSearch,
  component: lazyRouteComponent(() => import("./signin/SignInPage"), "SignInPage"),
});

const signInComplete = createRoute({
  getParentRoute: () => root,
  path: "/signin/complete",
  component: lazyRouteComponent(() => import("./signin/CompletePage"), "CompletePage"),
});

const account = createRoute({
  getParentRoute: () => root,
  path: "/account",
  component: lazyRouteComponent(() => import("./account/AccountPage"), "AccountPage"),
});

const admin = createRoute({
  getParentRoute: () => root,
  path: "/admin",
  component: lazyRouteComponent(() => import("./admin/AdminPage"), "AdminPage"),
});

const routeTree = root.addChildren([
  search,
  products,
  product,
  signIn,
  signInComplete,
  account,
  admin,
]);

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
