import { Link } from "@tanstack/react-router";
import { useEffect } from "react";

// Runs in the browser. An address the marketplace has no page for.

export function NotFoundPage() {
  useEffect(() => {
    document.title = "Page not found · Kraken Market";
  }, []);
  return (
    <>
      <h1>Page not found</h1>
      <p>There is no page at this address. It may have been mistyped or moved.</p>
      <p>
        <Link to="/">Search the catalog</Link>
      </p>
    </>
  );
}
