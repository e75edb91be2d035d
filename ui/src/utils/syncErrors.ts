/** SyncStatus.last_error codes with a sentence of their own in the i18n files. */
export const SYNC_ERROR_CODES = [
  'offline',
  'timeout',
  'no_answer',
  'unauthorized',
  'refused',
  'too_large',
  'unsupported_version',
  'bad_request',
  'server_error',
  'bad_response',
  'local_error',
  'not_enrolled',
] as const

/**
 * The i18n key of a sync error code: the full sentence, or in `short` form the few words a
 * table cell holds. A code from a newer shell gets the generic wording.
 */
export function syncErrorKey(code: string, short = false): string {
  const group = short ? 'syncErrorsShort' : 'syncErrors'
  return (SYNC_ERROR_CODES as readonly string[]).includes(code) ? `${group}.${code}` : `${group}.unknown`
}
