import { type ReactNode, useState } from "react";
import { Cell, Column, Row, Table, TableBody, TableHeader } from "react-aria-components";
import { Button } from "./controls";

// Runs in the browser. Showing data: tables, paging through a list, long identifiers.

export interface TableColumn<T> {
  id: string;
  name: string;
  cell: (row: T) => ReactNode;
  isRowHeader?: boolean;
}

export interface DataTableProps<T> {
  label: string;
  columns: readonly TableColumn<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
}

/** A read-only table (keyboard navigable by react-aria, a row header per row). */
export function DataTable<T>({ label, columns, rows, rowKey }: DataTableProps<T>) {
  return (
    <div className="k-table-wrap">
      <Table aria-label={label} className="k-table">
        <TableHeader columns={columns}>
          {(column) => (
            <Column id={column.id} isRowHeader={column.isRowHeader ?? false}>
              {column.name}
            </Column>
          )}
        </TableHeader>
        <TableBody items={rows.map((row) => ({ id: rowKey(row), row }))}>
          {(item) => (
            <Row id={item.id} columns={columns}>
              {(column) => <Cell>{column.cell(item.row)}</Cell>}
            </Row>
          )}
        </TableBody>
      </Table>
    </div>
  );
}

export interface MoreResultsProps {
  shown: number;
  hasMore: boolean;
  loading: boolean;
  onMore: () => void;
}

/** Cursor paging: how many are shown and a button for the next page. */
export function MoreResults({ shown, hasMore, loading, onMore }: MoreResultsProps) {
  return (
    <nav className="k-more" aria-label="More results">
      <p aria-live="polite">
        {shown} {shown === 1 ? "result" : "results"} shown{hasMore ? "" : ", no more"}
      </p>
      {hasMore && (
        // not isPending: react-aria would announce it by the id of a button that is gone
        // once the last page is in (a dangling label axe rightly reports)
        <Button
          variant="secondary"
          onPress={() => loading || onMore()}
          aria-disabled={loading || undefined}
        >
          {loading ? "Loading more…" : "More results"}
        </Button>
      )}
    </nav>
  );
}

/** `0x1234…abcd`: the start and end of a long hash or address. */
export function shorten(text: string, keep = 6): string {
  return text.length <= keep * 2 + 1 ? text : `${text.slice(0, keep)}…${text.slice(-4)}`;
}

/** A long identifier shown shortened, whole in its title, with a button that copies it. */
export function CopyText({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setState("copied"),
      () => setState("failed"),
    );
  };
  return (
    <span className="k-copy">
      <code title={text}>{shorten(text)}</code>
      <Button variant="quiet" onPress={copy} aria-label={`Copy ${label}`}>
        Copy
      </Button>
      <span className="k-copy-status" aria-live="polite">
        {state === "copied" ? "Copied" : state === "failed" ? "Select the text to copy it" : ""}
      </span>
    </span>
  );
}
