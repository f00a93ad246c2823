import type { ReactNode } from "react";
import { ProgressBar } from "react-aria-components";
import { Button } from "./controls";

// Runs in the browser. How pages tell people what is happening: an alert for what went
// wrong (with a way to retry), a spinner while loading, and an empty state.

export interface AlertProps {
  tone?: "error" | "warning" | "info";
  title: string;
  children?: ReactNode;
  onRetry?: () => void;
}

/** An error or notice. Errors are announced at once (role "alert"), others politely. */
export function Alert({ tone = "error", title, children, onRetry }: AlertProps) {
  return (
    <div className={`k-alert k-alert-${tone}`} role={tone === "error" ? "alert" : "status"}>
      <p className="k-alert-title">{title}</p>
      {children && <div className="k-alert-body">{children}</div>}
      {onRetry && (
        <Button variant="secondary" onPress={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

/** A spinner with its words for screen readers and everyone else. */
export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <ProgressBar className="k-loading" isIndeterminate aria-label={label}>
      <span className="k-spinner" aria-hidden="true" />
      <span>{label}</span>
    </ProgressBar>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="k-empty" role="status">
      <p className="k-empty-title">{title}</p>
      {children}
    </div>
  );
}
