// Runs in the browser. What /signin is told in its address: where to go back to, and
// why the person was signed out (the 401's code, and the company they acted for).

export interface SignInSearch {
  next?: string;
  why?: string;
  company?: string;
}

export function parseSignInSearch(raw: Record<string, unknown>): SignInSearch {
  const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);
  return { next: text(raw.next), why: text(raw.why), company: text(raw.company) };
}
