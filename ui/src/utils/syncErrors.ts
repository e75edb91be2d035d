/**
 * SyncStatus.last_error codes with a sentence of their own in the i18n files. The `tls_*` codes
 * (the hub's certificate is not trusted, expired, not yet valid, for another address, or no
 * encrypted link could be made) need a person to act: retrying does not help.
 */
export const SYNC_ERROR_CODES = [
  'offline',
  'timeout',
  'no_answer',
  'unauthorized',
  'refused',
  'too_large',
  'sync_position_damaged',
  'unsupported_version',
  'bad_request',
  'server_error',
  'bad_response',
  'local_error',
  'not_enrolled',
  'tls_untrusted',
  'tls_expired',
  'tls_not_yet_valid',
  'tls_wrong_name',
  'tls_failed',
] as const

/** AppState.hub_warning codes, worded in the same lists as the sync errors. */
export const HUB_WARNING_CODES = ['plain_http'] as const

/**
 * The i18n key of a sync error code: the full sentence, or in `short` form the few words a
 * table cell holds. A code from a newer shell gets the generic wording.
 */
export function syncErrorKey(code: string, short = false): string {
  const group = short ? 'syncErrorsShort' : 'syncErrors'
  return (SYNC_ERROR_CODES as readonly string[]).includes(code) ? `${group}.${code}` : `${group}.unknown`
}

/** The i18n key of a hub warning code (AppState.hub_warning); a code from a newer shell gets a generic warning. */
export function hubWarningKey(code: string, short = false): string {
  if ((HUB_WARNING_CODES as readonly string[]).includes(code)) return `${short ? 'syncErrorsShort' : 'syncErrors'}.${code}`
  return short ? 'app.hubWarningShort' : 'app.hubWarning'
}
