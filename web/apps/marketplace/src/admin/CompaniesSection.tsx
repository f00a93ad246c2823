import { asApiError, messageFor } from "@kraken/api";
import { Alert, EmptyState, Loading, Select } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { CompanyStatus } from "../lib/types";
import { CompanyRow } from "./CompanyRow";
import { companiesByStatusQuery } from "./queries";

// Runs in the browser. KCIT, the company register, for admins: companies by status,
// the self-registrations waiting for a check first.

const STATUSES: readonly { id: CompanyStatus; name: string }[] = [
  { id: "pending", name: "Waiting for a check (self-registered)" },
  { id: "identified", name: "Identified" },
  { id: "suspended", name: "Suspended" },
];

export function CompaniesSection() {
  const [status, setStatus] = useState<CompanyStatus>("pending");
  const companies = useQuery(companiesByStatusQuery(status));
  return (
    <section className="m-section" aria-labelledby="kcit-title">
      <h2 id="kcit-title">Company register (KCIT)</h2>
      <Select label="Show" value={status} onChange={setStatus} choices={STATUSES} />
      {companies.isPending ? (
        <Loading label="Reading the register…" />
      ) : companies.isError ? (
        <Alert title="The register could not be read">
          {messageFor(asApiError(companies.error))}
        </Alert>
      ) : companies.data.length === 0 ? (
        <EmptyState title="No company in this list" />
      ) : (
        <ul className="m-list m-companies">
          {companies.data.map((company) => (
            <CompanyRow key={company.did} company={company} />
          ))}
        </ul>
      )}
    </section>
  );
}
