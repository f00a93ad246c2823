import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { companiesQuery, companyQuery } from "../lib/api";
import { regionName, timeInWords } from "../lib/words";

// Runs in the browser. The seller: a company identified in the register (KCIT) with
// what the register says of it; a person by their DID.

const ASSURANCE: Record<string, string> = {
  "self-registration": "registered by its representative and checked by an administrator",
};

export function SellerSection({ did }: { did: string }) {
  const companies = useQuery(companiesQuery);
  const isCompany = companies.data?.has(did) ?? false;
  const company = useQuery({ ...companyQuery(did), enabled: isCompany });
  return (
    <section aria-labelledby="seller-heading">
      <h2 id="seller-heading">Seller</h2>
      {company.data ? (
        <dl className="m-facts m-facts-wide">
          <dt>Company</dt>
          <dd>{company.data.legal_name}</dd>
          <dt>Country</dt>
          <dd>{regionName(company.data.country)}</dd>
          {company.data.registration_number && (
            <>
              <dt>Registration number</dt>
              <dd>{company.data.registration_number}</dd>
            </>
          )}
          {company.data.lei && (
            <>
              <dt>LEI</dt>
              <dd>{company.data.lei}</dd>
            </>
          )}
          <dt>Identified</dt>
          <dd>
            {company.data.status === "identified"
              ? `Yes: ${ASSURANCE[company.data.level_of_assurance] ?? company.data.level_of_assurance}; in the register since ${timeInWords(company.data.created_at)}`
              : company.data.status}
          </dd>
        </dl>
      ) : (
        <p>
          {isCompany || companies.isPending
            ? "…"
            : "A person, known by their decentralised identifier: "}
          <code className="m-break">{did}</code>
        </p>
      )}
      <p>
        <Link to="/" search={{ owner: did }}>
          More products from this seller
        </Link>
      </p>
    </section>
  );
}
