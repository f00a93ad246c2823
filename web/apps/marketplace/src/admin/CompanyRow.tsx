import { asApiError, messageFor } from "@kraken/api";
import { Alert, Button, DataTable, Loading, TextField } from "@kraken/ui";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../lib/api";
import type { AuditEntry, Company } from "../lib/types";
import { regionName, timeInWords } from "../lib/words";
import { auditQuery } from "./queries";

// Runs in the browser. One company of the register: approve a pending (or suspended)
// one, suspend an identified one with a reason, read its audit log.

const ACTIONS: Record<string, string> = {
  registered: "Registered itself",
  created: "Entered by an admin",
  updated: "Changed",
  approved: "Approved (identified)",
  suspended: "Suspended",
  deleted: "Deleted",
  account: "Account linked",
};

export function CompanyRow({ company }: { company: Company }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState("");
  const [suspending, setSuspending] = useState(false);
  const [showAudit, setShowAudit] = useState(false);
  const change = useMutation({
    mutationFn: async (action: "approve" | "suspend") => {
      const path = { params: { path: { did: company.did } } };
      if (action === "approve") {
        await api.POST("/api/v1/companies/{did}/approve", { ...path, body: {} });
      } else {
        await api.POST("/api/v1/companies/{did}/suspend", { ...path, body: { reason } });
      }
    },
    onSuccess: () => {
      setSuspending(false);
      void queryClient.invalidateQueries({ queryKey: ["admin"] });
      void queryClient.invalidateQueries({ queryKey: ["companies"] });
    },
  });
  const name = company.legal_name;
  return (
    <li className="m-card">
      <h3 className="m-card-title">{name}</h3>
      <p className="m-card-meta">
        {regionName(company.country)} · registered {timeInWords(company.created_at)} ·{" "}
        <code className="m-break">{company.did}</code>
      </p>
      <div className="m-actions">
        {company.status !== "identified" && (
          <Button
            variant="primary"
            onPress={() => change.mutate("approve")}
            aria-label={`Approve ${name}`}
          >
            Approve
          </Button>
        )}
        {company.status === "identified" && !suspending && (
          <Button onPress={() => setSuspending(true)} aria-label={`Suspend ${name}`}>
            Suspend…
          </Button>
        )}
        <Button variant="quiet" onPress={() => setShowAudit(!showAudit)} aria-expanded={showAudit}>
          {showAudit ? "Hide the audit log" : "Audit log"}
        </Button>
      </div>
      {suspending && (
        <div className="m-inline-form">
          <TextField
            label={`Why suspend ${name}?`}
            description="Kept in the audit log; its attorney credentials stop working."
            value={reason}
            onChange={setReason}
          />
          <Button
            variant="primary"
            isDisabled={reason.trim() === ""}
            onPress={() => change.mutate("suspend")}
          >
            Suspend {name}
          </Button>
          <Button variant="quiet" onPress={() => setSuspending(false)}>
            Cancel
          </Button>
        </div>
      )}
      {change.isError && (
        <Alert title="The register was not changed">{messageFor(asApiError(change.error))}</Alert>
      )}
      {showAudit && <Audit did={company.did} name={name} />}
    </li>
  );
}

function Audit({ did, name }: { did: string; name: string }) {
  const audit = useQuery(auditQuery(did));
  if (audit.isPending) return <Loading label="Reading the audit log…" />;
  if (audit.isError) {
    return (
      <Alert title="The audit log could not be read">{messageFor(asApiError(audit.error))}</Alert>
    );
  }
  return (
    <DataTable<AuditEntry>
      label={`Audit log of ${name}`}
      rows={audit.data}
      rowKey={(entry) => `${entry.version}-${entry.action}-${entry.at}`}
      columns={[
        { id: "at", name: "When", isRowHeader: true, cell: (e) => timeInWords(e.at) },
        { id: "action", name: "What", cell: (e) => ACTIONS[e.action] ?? e.action },
        { id: "actor", name: "By", cell: (e) => <code className="m-break">{e.actor}</code> },
        { id: "reason", name: "Reason", cell: (e) => e.reason ?? "" },
      ]}
    />
  );
}
