import { Link, Outlet, useRouterState } from "@tanstack/react-router";
import { useEffect, useRef } from "react";
import { SessionNav } from "./SessionNav";

// Runs in the browser. The page frame: a skip link, the header with the site's
// navigation, the page in <main>, the footer. After a navigation to another page the
// focus moves to <main>, so keyboard and screen reader users start at the new page
// (a change of the search alone keeps the focus where the person is typing).

export function Layout() {
  const pathname = useRouterState({ select: (state) => state.location.pathname });
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [pathname]);

  return (
    <div className="m-frame">
      <a className="m-skip" href="#main">
        Skip to main content
      </a>
      <header className="m-header">
        <Link to="/" className="m-brand">
          Kraken Market
        </Link>
        <nav aria-label="Main">
          <ul className="m-nav">
            <li>
              <Link to="/" activeOptions={{ exact: true, includeSearch: false }}>
                Products
              </Link>
            </li>
            <SessionNav />
          </ul>
        </nav>
      </header>
      <main id="main" ref={main} tabIndex={-1} className="m-main">
        <Outlet />
      </main>
      <footer className="m-footer">
        <p>
          Kraken Market: data sold under the owner's policy; analytics computed without anyone
          seeing the data. <a href="/docs">API documentation</a>
        </p>
      </footer>
    </div>
  );
}
