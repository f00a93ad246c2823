import { Loading } from "@kraken/ui";
import { Link } from "@tanstack/react-router";
import { useMe } from "../lib/session";
import { ClaimsSection } from "./ClaimsSection";
import { CompaniesSection } from "./CompaniesSection";
import { NodesSection } from "./NodesSection";

// Runs in the browser. /admin: the platform's own work, for the platform roles. Admins
// keep the company register (KCIT); both read the claims waiting for a ruling, which
// arbiters rule on; both see the compute nodes. The API checks the roles again on every call.

export function AdminPage() {
  const me = useMe();
  if (me === undefined) return <Loading />;
  const admin = me?.roles.includes("admin") ?? false;
  const arbiter = me?.roles.includes("arbiter") ?? false;
  if (!admin && !arbiter) {
    return (
      <div className="m-page">
        <h1>Platform admin</h1>
        <p>
          This page needs the platform role admin (or arbiter, for claims).{" "}
          {me === null ? (
            <Link to="/signin" search={{ next: "/admin" }}>
              Sign in with a wallet that holds it
            </Link>
          ) : (
            `${me.name}, your credentials give you no platform role.`
          )}
        </p>
      </div>
    );
  }
  return (
    <div className="m-page">
      <h1>Platform admin</h1>
      {admin && <CompaniesSection />}
      <ClaimsSection mayRule={arbiter} />
      <NodesSection />
    </div>
  );
}
