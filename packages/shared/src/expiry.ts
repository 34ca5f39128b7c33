/**
 * Staged inputs and job outputs are deleted 7 days after they are made (docs/preflight-expiry-triage.md).
 * Data that expires sooner than this is worth a warning: an existing batch in preflight, a run whose
 * results are not downloaded yet (run-control's expiry watch).
 */
export const EXPIRY_WARNING_MS = 24 * 3600_000;
