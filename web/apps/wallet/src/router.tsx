/**
 * The wallet's pages and their addresses under /wallet/ (runs in the browser). The
 * same-device sign-in link is /wallet/request?client_id=…&request_uri=… (docs/signin.md).
 */
import { createRootRoute, createRoute, createRouter, Link, Outlet } from "@tanstack/react-router";
import { Layout } from "./components/Layout";
import { LinkError, parseRequestLink, type RequestLink } from "./lib/links";
import { CredentialPage, CredentialsPage } from "./pages/Credentials";
import { HomePage } from "./pages/Home";
import { InvitationPage } from "./pages/Invitation";
import { ReceivePage } from "./pages/Receive";
import { RequestPage } from "./pages/Request";
import { ScanPage } from "./pages/Scan";
import { CreatePage, ImportPage } from "./pages/Setup";

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

const root = createRootRoute({
  component: () => (
    <Layout>
      <Outlet />
    </Layout>
  ),
  notFoundComponent: () => (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to your wallet</Link>
      </p>
    </>
  ),
});

const home = createRoute({ getParentRoute: () => root, path: "/", component: HomePage });
const create = createRoute({ getParentRoute: () => root, path: "/create", component: CreatePage });
const importing = createRoute({
  getParentRoute: () => root,
  path: "/import",
  component: ImportPage,
});
const credentials = createRoute({
  getParentRoute: () => root,
  path: "/credentials",
  component: CredentialsPage,
});
const credential = createRoute({
  getParentRoute: () => root,
  path: "/credentials/$id",
  component: function Credential() {
    return <CredentialPage id={credential.useParams().id} />;
  },
});
const receive = createRoute({
  getParentRoute: () => root,
  path: "/receive",
  component: ReceivePage,
});
const scan = createRoute({ getParentRoute: () => root, path: "/scan", component: ScanPage });
const invitation = createRoute({
  getParentRoute: () => root,
  path: "/invitation",
  validateSearch: (search: Record<string, unknown>): { url: string } => ({
    url: text(search.url) ?? "",
  }),
  component: function Invitation() {
    return <InvitationPage url={invitation.useSearch().url} />;
  },
});
const request = createRoute({
  getParentRoute: () => root,
  path: "/request",
  validateSearch: (
    search: Record<string, unknown>,
  ): { client_id?: string; request_uri?: string } => ({
    client_id: text(search.client_id),
    request_uri: text(search.request_uri),
  }),
  component: function Request() {
    const search = request.useSearch();
    let link: RequestLink | null = null;
    let error: string | null = null;
    try {
      const query = new URLSearchParams();
      if (search.client_id) query.set("client_id", search.client_id);
      if (search.request_uri) query.set("request_uri", search.request_uri);
      link = parseRequestLink(`?${query}`);
    } catch (reason) {
      error = reason instanceof LinkError ? reason.message : String(reason);
    }
    return <RequestPage link={link} error={error} />;
  },
});

const tree = root.addChildren([
  home,
  create,
  importing,
  credentials,
  credential,
  receive,
  scan,
  invitation,
  request,
]);

export const router = createRouter({ routeTree: tree, basepath: "/wallet", defaultPreload: false });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
