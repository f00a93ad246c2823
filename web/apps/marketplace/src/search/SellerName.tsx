import { shorten } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { companiesQuery } from "../lib/api";

// Runs in the browser. A seller by name: a company identified in KCIT by its legal name,
// anyone else as "a person" with their DID shortened (whole in the title).

export function SellerName({ did }: { did: string }) {
  const companies = useQuery(companiesQuery);
  const name = companies.data?.get(did);
  if (name !== undefined) {
    return (
      <span>
        {name} <span className="m-muted">(identified company)</span>
      </span>
    );
  }
  return (
    <span>
      {companies.isPending ? "…" : "A person"}{" "}
      <code className="m-muted" title={did}>
        {shorten(did, 14)}
      </code>
    </span>
  );
}
