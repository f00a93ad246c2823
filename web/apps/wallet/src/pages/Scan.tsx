/**
 * Scan or paste anything the wallet answers (runs in the browser): a sign-in or
 * signing request opens the request page, an invitation link the invitation page.
 */
import { useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { Notice } from "../components/controls";
import { Scanner } from "../components/Scanner";
import { messageOf } from "../lib/http";
import { parseWalletLink } from "../lib/links";

export function ScanPage() {
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const open = (text: string) => {
    try {
      const link = parseWalletLink(text);
      setError(null);
      if (link.kind === "invitation")
        void navigate({ to: "/invitation", search: { url: text.trim() } });
      else
        void navigate({
          to: "/request",
          search: { client_id: link.clientId ?? undefined, request_uri: link.requestUri },
        });
    } catch (reason) {
      setError(messageOf(reason));
    }
  };
  return (
    <>
      <h1>Scan or paste</h1>
      <p>
        A sign-in QR code from the marketplace or a company's Depute tool, a signing request, or an
        invitation link.
      </p>
      {error ? <Notice tone="error">{error}</Notice> : null}
      <section aria-label="Scanner" className="card">
        <Scanner onText={open} pasteLabel="Link or QR code text" />
      </section>
    </>
  );
}
