import { asApiError, messageFor } from "@kraken/api";
import { Alert, Button, DataTable, Loading } from "@kraken/ui";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";
import type { SessionSummary } from "../lib/types";
import { timeInWords } from "../lib/words";
import { sessionsQuery } from "./queries";

// Runs in the browser. Your sessions (each browser or CLI you signed in with): end any
// other one, or all others at once.

export function SessionsSection() {
  const queryClient = useQueryClient();
  const sessions = useQuery(sessionsQuery);
  const end = useMutation({
    mutationFn: async (ids: string[]) => {
      for (const id of ids) {
        await api.DELETE("/api/v1/auth/sessions/{session_id}", {
          params: { path: { session_id: id } },
        });
      }
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: sessionsQuery.queryKey }),
  });
  const others = (sessions.data ?? []).filter((s) => !s.current).map((s) => s.id);
  return (
    <section className="m-section" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Your sessions</h2>
      {sessions.isPending ? (
        <Loading label="Reading your sessions…" />
      ) : sessions.isError ? (
        <Alert title="Your sessions could not be read">
          {messageFor(asApiError(sessions.error))}
        </Alert>
      ) : (
        <>
          <DataTable<SessionSummary>
            label="Your sessions"
            rows={sessions.data}
            rowKey={(s) => s.id}
            columns={[
              {
                id: "when",
                name: "Signed in",
                isRowHeader: true,
                cell: (s) => `${timeInWords(s.created_at)}${s.current ? " (this one)" : ""}`,
              },
              { id: "as", name: "Credentials", cell: (s) => s.credentials.join(", ") },
              {
                id: "until",
                name: "Renewable until",
                cell: (s) => timeInWords(s.refresh_expires_at),
              },
              {
                id: "end",
                name: "End",
                cell: (s) =>
                  s.current ? (
                    "—"
                  ) : (
                    <Button
                      variant="quiet"
                      aria-label={`Sign out the session of ${timeInWords(s.created_at)}`}
                      onPress={() => end.mutate([s.id])}
                    >
                      Sign out
                    </Button>
                  ),
              },
            ]}
          />
          {others.length > 0 && (
            <Button onPress={() => end.mutate(others)}>Sign out all other sessions</Button>
          )}
          {end.isError && (
            <Alert title="A session could not be ended">{messageFor(asApiError(end.error))}</Alert>
          )}
        </>
      )}
    </section>
  );
}
