import { ApiError } from "./client";

// Runs in the browser (every app). The API's `code` is stable; its `message` is
// written for developers. People read these instead: what went wrong, in the
// marketplace's words, and what to do next. tests/web/test_messages.py fails when a
// code the backend can answer with has no entry here.

const MESSAGES: Record<string, string> = {
  // The error tree's roots (kraken_market.errors) and the API's own handlers
  internal_error:
    "Something went wrong on the marketplace's side. It has been logged; try again later.",
  invalid_request:
    "The marketplace could not accept this request. Check what you entered and try again.",
  validation_error:
    "Some of what you entered is not valid. Correct the marked fields and try again.",
  invalid_cursor:
    "This list of results is out of date. Start the search again from the first page.",
  unauthenticated: "You are not signed in, or your session ended. Sign in and try again.",
  forbidden: "You are not allowed to do this with your current account.",
  not_found: "This page or item does not exist. Check the address, or search the catalog.",
  conflict: "Someone changed this at the same time. Reload the page and try again.",
  payload_too_large: "What you sent is too large. Send a smaller file or less text.",
  rate_limited: "Too many requests in a short time. Wait a few seconds and try again.",
  unavailable: "The marketplace is unavailable for a moment. Try again shortly.",
  overloaded: "The marketplace is busy. Wait a few seconds and try again.",
  bad_request: "The marketplace could not read this request. Reload the page and try again.",
  method_not_allowed: "This action is not possible here. Reload the page and try again.",
  not_acceptable: "The marketplace cannot answer in a form this page reads. Reload the page.",
  unsupported_media_type: "This kind of file or content is not accepted here.",
  json_too_deep: "What you sent is nested too deeply to be read. Simplify it and try again.",
  http_error: "The marketplace answered with an unexpected error. Try again later.",
  // Made by the browser client itself (packages/api/src/client.ts)
  server_error: "The marketplace could not answer. Try again in a moment.",
  network_error: "The marketplace cannot be reached. Check your connection and try again.",

  // Catalog: products, unions, lineage
  product_not_found:
    "There is no product with this id. It may have been mistyped: search the catalog instead.",
  union_not_found: "There is no data union with this id. Search the catalog instead.",
  not_owner: "Only the product's owner can do this.",
  product_retired: "This product has been retired: it can no longer be changed or bought.",
  lineage_cycle:
    "A product cannot derive from itself, directly or through others. Choose other parents.",
  unknown_parent: "A parent product you named does not exist. Check its id.",
  prices_do_not_fit_mode:
    "These prices belong to another access mode than the product's. Give the prices of its own mode.",
  invalid_query: "The search could not be read. Remove special characters and try again.",
  policy_expired: "The policy's end date has passed. Choose a date in the future.",
  unknown_member: "A product named as a member of the union does not exist. Check its id.",
  duplicate_member: "A product is listed twice in the union. List each product once.",
  member_unavailable: "A member product is paused or retired and cannot join a union.",
  union_mode_mismatch: "All members of a union must have the same access mode.",
  union_schema_mismatch: "All members of a union must have the same schema.",
  union_exists: "A union of exactly these products already exists.",
  union_not_pending: "This union is no longer waiting for consent.",
  union_weights_differ:
    "The chain already holds a proposal of this union with other shares for its members: reject it, then propose the union again.",
  not_member_owner: "Only the owner of a member product can consent to or reject the union.",

  // Companies (KCIT) and the Depute tool
  invalid_lei: "This LEI is not valid (20 characters with a correct check sum). Check it.",
  invalid_country: "This is not an ISO 3166-1 country code (two letters, e.g. DE).",
  company_identifier_required: "Give the company's registration number, its LEI, or both.",
  admin_required: "Only a marketplace administrator can do this.",
  not_representative: "Only the company's representative can do this.",
  representative_private:
    "Who represents a company is shown only to that person and to administrators.",
  company_not_found: "This company is not in the register, or not identified yet.",
  company_exists: "This company is already registered.",
  company_status_conflict:
    "The company's status does not allow this change now. Reload to see its status.",
  chain_desk_unavailable: "The company's chain desk is unavailable. Try again later.",
  invitation_not_for_you: "This invitation was sent to someone else.",
  marketplace_refused:
    "The marketplace refused the company's request. See the details and correct it.",
  cross_site_request: "The request came from another site and was refused. Open the page directly.",
  authorisation_required: "Your company has not authorised you for this. Ask its representative.",
  not_company_product: "This product does not belong to your company.",
  authorisation_not_found: "This authorisation does not exist or has been withdrawn.",
  invitation_not_found: "This invitation does not exist. Ask for a new one.",
  invitation_used: "This invitation has already been used.",
  depute_exists: "This person already represents the company in its Depute tool.",
  invitation_expired: "This invitation has expired. Ask for a new one.",
  marketplace_unavailable:
    "The marketplace cannot be reached from the Depute tool. Try again later.",
  publication_pending: "The publication is still waiting for the chain. Check again in a moment.",

  // Identity: DIDs, credentials, presentations, sessions, wallets
  binding_replayed: "This account binding was already used. Make a new one in your wallet.",
  invalid_did: "This is not a valid DID (did:key:…).",
  malformed_token: "Your wallet's answer could not be read. Try signing in again.",
  token_too_large: "Your wallet's answer is too large. Present fewer credentials.",
  unsupported_algorithm: "Your wallet signed with an algorithm the marketplace does not accept.",
  invalid_signature: "A signature did not verify. Try again with your own wallet.",
  credential_expired: "One of your credentials has expired. Ask its issuer for a new one.",
  credential_not_yet_valid: "One of your credentials is not valid yet. Try again later.",
  presentation_expired: "Your wallet's answer came too late. Sign in again.",
  credential_invalid: "One of your credentials is not valid. Ask its issuer for a new one.",
  credential_revoked: "One of your credentials has been revoked by its issuer.",
  credential_missing: "Your wallet lacks a credential this needs. Get it from an issuer first.",
  untrusted_issuer: "A credential was issued by someone the marketplace does not trust.",
  holder_mismatch: "A credential belongs to another person than the one presenting it.",
  wrong_audience: "Your wallet answered a request meant for another site. Sign in again here.",
  nonce_unknown: "This sign-in request is unknown or has expired. Start signing in again.",
  nonce_reused: "This sign-in request was already answered. Start signing in again.",
  session_invalid: "Your session has ended. Sign in again.",
  session_ended:
    "The marketplace ended your session because a credential behind it was revoked or expired. Sign in again with valid credentials.",
  session_not_found: "You have no such session. Reload your account page.",
  csrf_header_missing:
    "This page could not prove where the request came from. Reload it and try again.",
  demo_issuer_disabled:
    "This marketplace has no demo issuer. Get your credentials from an issuer it trusts.",
  // Sign-in and signatures asked of a wallet (OpenID4VP)
  state_mismatch: "The wallet answered another request. Start again from the marketplace's page.",
  request_expired: "The request expired before the wallet answered. Start again.",
  request_answered: "This request was answered already. Start again if you need to.",
  request_closed: "This request is closed (answered or expired). Start again from the marketplace.",
  request_unknown: "This request does not exist. Start again from the marketplace's page.",
  request_object_invalid:
    "The wallet will not answer this request: it is not signed properly. Start again from the marketplace.",
  nonce_mismatch: "The wallet's answer was made for another request. Start again.",
  vp_token_invalid:
    "The wallet's answer lacks a required credential. Receive the credential first, then try again.",
  response_code_mismatch:
    "This sign-in must be completed in the browser where it started. Start again here.",
  result_redeemed: "This sign-in was completed already. Start a new one if you are signed out.",
  transaction_unknown:
    "This sign-in is unknown here (perhaps started in another tab). Start again.",
  signin_key_missing:
    "Sign-in with a wallet is not set up on this marketplace yet. Ask its operators.",
  wallet_declined: "You declined in your wallet, so nothing was shared.",
  declined: "You declined, so nothing was shared.",
  company_not_identified: "Your company has not been identified in the register yet.",
  role_required: "Your account lacks the role this needs.",
  scope_required: "Your session does not allow this. Sign in again and allow it.",
  did_unavailable: "An identity could not be resolved right now. Try again shortly.",
  status_unavailable:
    "A credential's revocation status cannot be checked right now. Try again shortly.",
  registry_full: "The credential status list is full. Tell the marketplace's operators.",
  wallet_invalid: "This wallet file cannot be read.",
  weak_passphrase: "This passphrase is too weak. Choose a longer one.",
  credential_not_for_wallet: "This credential was issued to another wallet.",
  wrong_passphrase: "The passphrase is wrong. Try again.",
  wallet_locked: "Your wallet is locked. Unlock it and try again.",
  wallet_not_found: "No wallet was found. Create one or open yours.",
  credential_not_in_wallet: "This credential is not in your wallet.",
  wallet_exists: "A wallet already exists here.",
  credential_duplicate: "This credential is already in your wallet.",
  nothing_to_present: "Your wallet holds nothing that answers this request.",
  signing_request_invalid:
    "Your wallet would not sign this request: it is for another person, or of a kind it does not know.",
  foreign_marketplace:
    "Your wallet signs transactions only for its own marketplace, and another site asked for this one. Nothing was signed.",
  account_not_bound:
    "Your identity has no ledger account linked yet. Link your wallet's account first, then try again.",
  message_invalid:
    "This text cannot be signed: it is empty, too long or holds invisible control characters.",
  wrong_chain:
    "Your wallet signed for another chain than the marketplace's. Nothing was sent; start again.",
  wrong_account:
    "It was signed with another account than the one linked to your identity. Nothing was sent; answer with the wallet you linked.",
  transaction_mismatch:
    "Your wallet signed another transaction than the one asked for. Nothing was sent; start again.",

  // Ledger: the chain, the token, the contracts
  call_invalid:
    "This action does not fit the marketplace's contracts. Reload the page and try again.",
  transaction_unreadable:
    "The wallet's answer is not a signed transaction the marketplace can read. Nothing was sent.",
  transaction_rejected:
    "The chain did not take the transaction (another one from your account may have gone first). Nothing was sent; start again.",
  answer_failed:
    "The marketplace could not carry out the wallet's answer, and nothing was sent: ask your wallet again from the page.",
  ledger_error: "The chain answered with an error. Try again later.",
  chain_unavailable: "The chain cannot be reached. Try again shortly.",
  chain_timeout: "The chain did not confirm the transaction in time. Check again in a moment.",
  chain_replaced:
    "The transaction was dropped and another one took its place: it will not happen. Check, then try again.",
  log_range_refused: "The chain node refused to read its event history. Try again later.",
  token_changed: "The marketplace's contracts use another token than the one configured.",
  invalid_duration: "That is not a duration. Write it like 7d, 2h30m or a number of seconds.",
  invalid_address: "That is not an account address (0x and 40 hex digits).",
  admin_transfer_refused: "The admin role cannot move that way. Check who offers and who accepts.",
  not_confirmed: "Nothing was sent: the change was not confirmed.",
  role_unchanged: "The account already has that role (or does not have it). Nothing changed.",
  deployment_not_on_chain:
    "The chain does not have the marketplace's contracts. Check the chain URL.",
  not_deployed: "The marketplace's contracts are not deployed yet. Try again later.",
  chain_reorganised:
    "The chain changed its recent history; the marketplace is catching up. Try again shortly.",
  event_conflict: "The marketplace's view of the chain needs checking. Try again later.",
  invalid_amount:
    "This is not a valid amount of DATA. Use digits and at most the token's decimals.",
  database_of_another_chain:
    "The marketplace is connected to another chain than its records. Tell its operators.",
  reverted: "The chain refused the transaction; nothing changed. See the reason and try again.",
  chain_forbidden: "The chain does not allow your account to do this.",
  grant_required: "You need a grant for this product first: buy it, or check you meet its policy.",
  chain_not_found:
    "This is not on the chain (yet). If it was just published, check again in a moment.",
  market_paused: "The market is paused on chain. Try again later.",
  insufficient_funds: "Your account has not enough DATA (or gas) for this.",
  chain_conflict: "The chain's state changed meanwhile. Reload and try again.",
  chain_invalid: "The transaction is not valid for the chain.",
  deployment_mismatch: "The marketplace and your tools use different chain deployments.",

  // The local platform and its command-line tools
  platform_error: "The local platform failed. See its log.",
  process_failed: "A process of the platform stopped. See its log.",
  process_not_ready: "A process of the platform did not start in time. See its log.",
  setup_mismatch: "The platform's data directory was set up differently. Use a new one.",
  stop_requested: "The platform was stopped before it was ready.",
  accounts_unfunded: "Some platform accounts need gas money on the chain. Fund them first.",
  bank_needed: "On an external chain the demo needs a funded account to pay its people.",
  platform_on_another_chain: "Run the demo with the same chain URL as the platform.",
  bank_too_poor: "The demo's paying account holds too little. Fund it first.",
  platform_not_running: "No platform is running. Start it with 'kraken-market up'.",
  api_unreachable: "The marketplace API cannot be reached. Check that it runs.",
  owner_key_mismatch: "The data would be signed by someone other than the product's owner.",
  local_run_failed: "The local computation failed.",

  // Compute nodes and the privacy-preserving analytics (SMPC)
  node_unreachable: "A compute node cannot be reached. Try again later.",
  data_invalid: "The data does not match the product's schema.",
  missing_column: "The data lacks a column of the product's schema.",
  not_numeric: "A numeric column holds a value that is not a number.",
  missing_value: "A column that may not be empty has an empty value.",
  unknown_category: "A categorical column holds a category the schema does not declare.",
  out_of_range: "A value lies outside the range the schema declares.",
  unreadable_data: "The data file cannot be read. Use CSV or Parquet.",
  sharing_invalid: "The secret sharing settings are not valid.",
  share_file_invalid: "A share file is not valid.",
  envelope_invalid: "An encrypted share cannot be read.",
  envelope_truncated: "An encrypted share is incomplete. Upload it again.",
  envelope_misdirected: "An encrypted share was meant for another node.",
  envelope_tampered: "An encrypted share was altered and is refused.",
  manifest_invalid: "The data's manifest is not valid.",
  manifest_mismatch: "The data's manifest does not match the product.",
  result_shares_invalid: "The result shares cannot be combined. Fetch them again.",
  object_name_invalid: "This storage object name is not valid.",
  object_not_found: "This stored object does not exist.",
  object_precondition_failed: "The stored object changed meanwhile. Try again.",
  storage_location_invalid: "This storage location is not valid.",
  storage_access_denied: "The storage refused access.",
  bucket_not_found: "The storage bucket does not exist.",
  storage_unavailable: "The storage is unavailable. Try again shortly.",
  computation_invalid: "This computation is not valid for the product.",
  function_unknown: "This computation is not one the marketplace offers.",
  outside_accuracy_envelope:
    "The platform cannot answer this within its stated accuracy: narrow the columns' declared ranges, or use fewer rows or features (the message says which). Nothing was paid.",
  design_ill_conditioned:
    "The regression's features are collinear or constant in these rows: drop or combine the features that repeat one another.",
  parameters_invalid: "The computation's parameters are not valid.",
  column_unknown: "The computation names a column the product does not have.",
  filter_invalid: "The computation's filter is not valid.",
  range_required: "This computation needs columns with a declared range.",
  products_incompatible: "These products cannot be computed on together (different schemas).",
  buyer_signature_required: "The request must be signed by the buyer.",
  not_job_buyer: "Only the buyer of this computation can do this.",
  computation_unknown: "This computation is unknown to the nodes.",
  job_not_found: "This computation job does not exist.",
  request_mismatch: "The request does not match the computation that was paid for.",
  grant_missing: "There is no grant for this computation. Buy access first.",
  payment_required: "This computation has not been paid for yet.",
  payment_not_held: "The payment for this computation is not held on chain.",
  computation_closed: "This computation has already ended.",
  computation_expired: "This computation expired before it ran. Reclaim your payment.",
  job_conflict: "This computation is already running or done.",
  result_not_ready: "The result is not ready yet. Check again in a moment.",
  cohort_below_floor:
    "Too few records match to protect privacy: the result would reveal individuals. Widen the filter.",
  result_withheld: "The result was withheld to protect privacy (too few records).",
  node_signature_required: "The request must be signed by a compute node.",
  not_a_node: "Only a registered compute node can do this.",
  peer_unavailable: "A compute node cannot reach another node. Try again later.",
  peer_refused: "A compute node refused the job of another node.",
  no_free_port: "A compute node has no free port for the job. Try again later.",
  node_busy: "The compute node is busy. Try again shortly.",
  job_not_queued: "This job is not waiting to run.",
  port_mismatch: "The compute nodes do not agree on the job's ports. Try again.",

  // Storage of uploaded objects
  object_kind_invalid: "This kind of object cannot be stored here.",
  object_not_encrypted: "Only encrypted files are stored. Encrypt the file first.",
  object_format_invalid: "The file's format is not valid.",
  object_incomplete: "The upload is incomplete. Upload the file again.",
  object_checksum_mismatch: "The file changed on its way (checksum mismatch). Upload it again.",
  object_not_readable: "You may not read this file. Buy access first.",
  upload_not_found: "This upload does not exist or has expired. Start again.",
  object_exists: "A file with this name already exists.",
  object_immutable: "A stored file cannot be changed.",
  manifest_shares_missing: "Some shares named in the manifest are missing. Upload them first.",
  object_too_large: "This file is too large.",
  upload_refused: "The storage refused the upload. Start the upload again.",

  // Access: files, keys, streams
  datafile_invalid: "The data file cannot be read.",
  datafile_truncated: "The data file is incomplete. Download it again.",
  datafile_trailing_data: "The data file has extra bytes at its end and is refused.",
  datafile_misdirected: "This data file belongs to another product.",
  datafile_wrong_key: "The key does not open this data file.",
  datafile_header_tampered: "The data file's header was altered and is refused.",
  datafile_chunk_reordered: "Parts of the data file are out of order; it is refused.",
  datafile_chunk_spliced: "Parts of the data file come from another file; it is refused.",
  datafile_chunk_tampered: "Part of the data file was altered and is refused.",
  source_changed: "The source file changed while it was read. Try again.",
  key_sharing_invalid: "The key sharing settings are not valid.",
  key_share_invalid: "A key share is not valid.",
  share_misdirected: "A key share was meant for another node.",
  key_recovery_failed: "The file's key could not be recovered from the nodes. Try again later.",
  key_commitment_mismatch:
    "The recovered key does not match the product's. Tell the marketplace's operators.",
  signature_invalid: "The request's signature did not verify.",
  request_stale: "The request is too old. Try again.",
  depositor_not_owner: "Only the product's owner can deposit its key.",
  purchase_mismatch: "This purchase is for another product or buyer.",
  not_paid: "This has not been paid for. Buy access first.",
  product_unknown: "The compute nodes do not know this product.",
  purchase_unknown: "This purchase is unknown. Check again once the chain has confirmed it.",
  key_unknown: "The nodes hold no key for this product.",
  key_exists: "The nodes already hold a key for this product.",
  key_unavailable: "The file's key is unavailable right now. Try again later.",
  file_exists: "A file for this product is already stored.",
  deposits_incomplete: "Too few compute nodes took their key share. Try again.",
  frame_invalid: "A stream message is not valid.",
  frame_malformed: "A stream message cannot be read.",
  frame_version_unsupported: "A stream message has a version this page cannot read.",
  frame_wrong_product: "A stream message belongs to another product.",
  frame_tampered: "A stream message was altered and is refused.",
  frame_replayed: "A stream message was sent twice and is refused.",
  frame_epoch_regressed: "A stream message uses an old key period and is refused.",
  epoch_schedule_invalid: "The stream's key schedule is not valid.",
  frame_too_large: "A stream message is too large.",
  subscription_required: "Subscribe to this stream to read it.",
  subscription_expired: "Your subscription to this stream has ended. Subscribe again.",
  epoch_key_denied: "Your subscription does not cover this part of the stream.",
  stream_not_found: "This stream does not exist.",
  not_a_stream: "This product is not a stream.",
  stream_sequence_conflict: "Stream messages arrived out of order. Try again.",
  stream_relay_disabled: "This marketplace does not relay streams.",
  stream_transport_unavailable: "The stream cannot be reached right now. Try again shortly.",

  // Trade: buying, publishing, claims, refunds
  request_paid_by_other: "This request was paid for by another account.",
  already_bought: "You already bought access to this. Buying again is a separate choice.",
  subscription_active: "Your subscription is still running. You can extend it instead.",
  quote_refused:
    "This computation would fail or be withheld: nothing was paid. See why and change it.",
  not_buyer: "Only the buyer of this purchase can do this.",
  purchase_not_found: "This purchase does not exist.",
  arbiter_unavailable: "No arbiter is available right now. Try again later.",
  computation_not_found: "This computation does not exist.",
  not_published: "This product is not published on the chain yet, so it cannot be bought.",
  payment_returned: "The payment for this computation went back to the buyer.",
  nodes_busy: "The compute nodes are busy. Try again in a few minutes.",
  not_eligible: "You do not meet this product's policy (purpose, buyer category or region).",
  product_not_for_sale: "This product is not for sale now (paused or retired).",
  binding_required: "Bind a ledger account to your identity first (in your wallet).",
  own_product: "You cannot buy your own product.",
  verifier_unavailable: "The policy check is unavailable right now. Try again shortly.",
  published_by_other: "This product was published on the chain from another account.",
  chain_owner_unverified: "The product's account on chain is not the one its owner registered.",
  company_account_required: "The company must bind its own ledger account first.",
  computation_refunded: "The nodes could not run the computation; you were paid back.",
  computation_refused: "The nodes refused the computation. You can reclaim the payment later.",
  payment_reclaimed: "The payment has already been reclaimed.",
  nothing_to_reclaim: "There is no payment to reclaim.",
  reclaim_not_due: "The payment cannot be reclaimed yet. Try again after the waiting time.",
  not_your_request: "This computation request is someone else's.",
  not_forwarded: "The computation was not passed to the nodes yet. Try again shortly.",
  invalid_period: "This period is not valid: its start must come before its end.",
  period_too_long: "This period is too long. Choose a shorter one.",
};

/** Whether the marketplace has a message in words for `code`. */
export function hasMessage(code: string): boolean {
  return Object.hasOwn(MESSAGES, code);
}

/** The locations of a `validation_error`'s problems (`["query", "price_min"]` → `price_min`). */
function fieldsOf(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  const names: string[] = [];
  for (const detail of details) {
    const loc: unknown = (detail as { loc?: unknown }).loc;
    if (!Array.isArray(loc)) continue;
    const name = loc.filter((part) => part !== "body" && part !== "query" && part !== "path");
    if (name.length > 0) names.push(name.join("."));
  }
  return [...new Set(names)];
}

/** What went wrong, in words, and what to do next, for an error of the API. */
export function messageFor(error: ApiError): string {
  const words = MESSAGES[error.code];
  if (words === undefined) {
    return `The marketplace refused this (${error.code}). Try again later.`;
  }
  if (error.code === "validation_error") {
    const fields = fieldsOf(error.details);
    if (fields.length > 0) return `${words} Check: ${fields.join(", ")}.`;
  }
  return words;
}

/** Any failure of a call as an `ApiError`: the fetch itself failing (offline, refused)
 * is `network_error`, anything else unexpected `internal_error` (its text is kept for
 * the developer console, never shown as the message). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof TypeError) {
    return new ApiError(0, { code: "network_error", message: error.message });
  }
  return new ApiError(0, { code: "internal_error", message: String(error) });
}
