import { Button } from "@kraken/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useRouterState } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { companiesQuery } from "../lib/api";
import { meQuery, signOut, useMe } from "../lib/session";

// Runs in the browser. The header's part about the session: who you are and whom you
// act for, your account, the admin pages for platform roles, and Sign out; or Sign in,
// keeping the page to come back to.

export function SessionNav() {
  const me = useMe();
  const companies = useQuery({ ...companiesQuery, enabled: Boolean(me?.company) });
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const here = useRouterState({ select: (state) => state.location.href });
  const [leaving, setLeaving] = useState(false);
  const pathname = useRouterState({ select: (state) => state.location.pathname });
  const first = useRef(true);

  // each page visit asks /auth/me again, which re-checks the session's credentials: a
  // revoked one ends the session at the next page and the guard says why
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    if (pathname) void queryClient.invalidateQueries({ queryKey: meQuery.queryKey });
  }, [pathname, queryClient]);

  if (!me) {
    const next = here.startsWith("/signin") ? undefined : here;
    return (
      <li>
        <Link to="/signin" search={{ next }}>
          Sign in
        </Link>
      </li>
    );
  }
  const company = me.company ? (companies.data?.get(me.company) ?? "a company") : null;
  const judge = me.roles.includes("admin") || me.roles.includes("arbiter");
  return (
    <>
      {judge && (
        <li>
          <Link to="/admin">Admin</Link>
        </li>
      )}
      <li>
        <Link to="/account" className="m-who">
          {me.name}
          {company && <span className="m-acting"> for {company}</span>}
        </Link>
      </li>
      <li>
        <Button
          variant="quiet"
          className="m-signout"
          isDisabled={leaving}
          onPress={() => {
            setLeaving(true);
            void signOut(queryClient).finally(() => {
              setLeaving(false);
              void navigate({ to: "/" });
            });
          }}
        >
          Sign out
        </Button>
      </li>
    </>
  );
}
