import type { components } from "@kraken/api";

// Runs in the browser. The API shapes the marketplace pages read.

type Schemas = components["schemas"];
export type Product = Schemas["ProductPublic"];
export type Revision = Schemas["RevisionPublic"];
export type LineageGraph = Schemas["LineageGraph"];
export type LineageNode = Schemas["LineageNode"];
export type Union = Schemas["UnionPublic"];
export type Company = Schemas["CompanyPublic"];
export type Token = Schemas["TokenPublic"];
export type Column = Schemas["NumericColumn"] | Schemas["CategoricalColumn"];

/** One event of a product on chain (GET /products/{id}/chain, `events`). */
export interface ChainEvent {
  name: string;
  block: number;
  at: string;
  transaction: string;
}

/** What the chain says about a product, as indexed (trade/chain_state.py; the spec
 * types it as a free object). */
export interface ChainView {
  published: boolean;
  publishing_announced: boolean;
  owner: string | null;
  owner_did: string | null;
  verified: boolean;
  published_at: string | null;
  transaction: string | null;
  availability: string | null;
  stake: string;
  quality: string;
  approvals: number;
  release_at: string | null;
  claims: { open: number; upheld: number; rejected: number };
  differs: string[];
  events: ChainEvent[];
}

export type Me = Schemas["MePublic"];
export type SessionSummary = Schemas["SessionSummary"];
export type SigninResult = Schemas["SigninResult"];
export type WalletRequestOutcome = Schemas["WalletRequestOutcome"];
export type Node = Schemas["NodePublic"];
export type AuditEntry = Schemas["AuditEntry"];
export type CompanyStatus = Schemas["CompanyStatus"];

/** One claim as arbiters read it (GET /claims; the spec types it as a free object). */
export interface Claim {
  purchase_id: number;
  product_id: string;
  claimant: string;
  bond: string;
  evidence_hash: string;
  statement: string | null;
  status: "open" | "upheld" | "rejected";
  transaction: string;
}
