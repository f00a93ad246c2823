import { Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { companiesQuery } from "../lib/api";
import { useMe } from "../lib/session";
import { roleName } from "../lib/words";
import { AccountSection } from "./AccountSection";
import { OwnProducts } from "./OwnProducts";
import { sessionsQuery } from "./queries";
import { SessionsSection } from "./SessionsSection";

// Runs in the browser. /account: who you are in this session (from your credentials),
// the ledger account bound to your DID and its DATA, your sessions, your products.

export function AccountPage() {
  const me = useMe();
  const companies = useQuery({ ...companiesQuery, enabled: Boolean(me?.company) });
  const sessions = useQuery({ ...sessionsQuery, enabled: Boolean(me) });
  if (me === undefined) return <Loading />;
  if (me === null) {
    return (
      <div className="m-page">
        <h1>Your account</h1>
        <p>
          <Link to="/signin" search={{ next: "/account" }}>
            Sign in with your wallet
          </Link>{" "}
          to see your account.
        </p>
      </div>
    );
  }
  const current = sessions.data?.find((s) => s.current);
  const company = me.company ? (companies.data?.get(me.company) ?? me.company) : null;
  return (
    <div className="m-page">
      <h1>Your account</h1>
      <dl className="m-facts">
        <dt>Name</dt>
        <dd>{me.name}</dd>
        <dt>Your DID</dt>
        <dd>
          <code className="m-break">{me.did}</code>
        </dd>
        <dt>Acting as</dt>
        <dd>{company ? `${company} (attorney credential)` : "Yourself"}</dd>
        <dt>Platform roles</dt>
        <dd>{me.roles.length ? me.roles.map(roleName).join(", ") : "None"}</dd>
        <dt>Credentials presented</dt>
        <dd>{current ? current.credentials.join(", ") : "…"}</dd>
        <dt>What you may do</dt>
        <dd>{me.scope.join(", ") || "Read only"}</dd>
      </dl>
      <AccountSection me={me} />
      <SessionsSection />
      <OwnProducts owner={me.acting_as} />
    </div>
  );
}
