import { ApiError, asApiError, messageFor } from "@kraken/api";
import { Loading } from "@kraken/ui";
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { eligibilityQuery } from "../lib/api";
import { useMe } from "../lib/session";
import type { Product } from "../lib/types";
import { buyerCategoryName, listInWords, purposeName, regionName, timeInWords } from "../lib/words";

// Runs in the browser. The owner's policy in plain words, and whether you meet it
// (checked by the API as a grant would be; needs you signed in).

export function PolicySection({ product }: { product: Product }) {
  const { policy } = product;
  const regions = policy.regions ?? [];
  const credentials = policy.credential_types ?? [];
  return (
    <section aria-labelledby="policy-heading">
      <h2 id="policy-heading">Who may buy it</h2>
      <ul className="m-plain">
        <li>For {listInWords(policy.purposes.map((p) => purposeName(p).toLowerCase()))} only.</li>
        <li>
          Sold to{" "}
          {listInWords(
            (policy.buyer_categories ?? []).map((c) => buyerCategoryName(c).toLowerCase()),
          )}
          .
        </li>
        <li>
          {regions.length > 0
            ? `Buyers must be in ${listInWords(regions.map(regionName))}.`
            : "Buyers may be anywhere."}
        </li>
        {credentials.length > 0 && (
          <li>Buyers must hold these credentials: {listInWords(credentials)}.</li>
        )}
        <li>
          {policy.expires_at
            ? `No new purchases after ${timeInWords(policy.expires_at)}.`
            : "No end date for new purchases."}
        </li>
        {product.access_mode === "analytics" && (
          <li>
            Results are computed on the data without anyone seeing it, and withheld when too few
            records match (the minimum cohort protects individuals).
          </li>
        )}
      </ul>
      <Eligibility product={product} />
    </section>
  );
}

function Eligibility({ product }: { product: Product }) {
  const purpose = product.policy.purposes[0] ?? "research";
  const me = useMe();
  const answer = useQuery({ ...eligibilityQuery(product.id, purpose), enabled: Boolean(me) });
  if (!me) {
    return (
      <p className="m-note">
        <Link to="/signin" search={{ next: `/products/${product.id}` }}>
          Sign in to see whether you meet it
        </Link>
        .
      </p>
    );
  }
  if (answer.isPending) return <Loading label="Checking whether you meet it…" />;
  if (answer.isError) return <p className="m-note">{messageFor(asApiError(answer.error))}</p>;
  return (
    <p className="m-note">
      {answer.data.eligible
        ? `You (${me.name}) meet this policy for ${purposeName(purpose).toLowerCase()}.`
        : `You do not meet it. ${answer.data.refusal ? messageFor(new ApiError(403, { code: answer.data.refusal.code, message: answer.data.refusal.message })) : ""}`}
    </p>
  );
}
