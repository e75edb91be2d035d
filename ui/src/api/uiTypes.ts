// The few IPC shapes that have no Rust type of their own to generate from (everything else is in
// ./generated/bindings.ts, generated from the Rust types).
import type { ProgressEvent, StoreChanged, SyncStatus } from './generated/bindings'

/**
 * One office's sync health at the hub (`hub_offices`, bureau only). The shell passes the hub's
 * `/v1/offices` JSON through as it is: the type is the hub's, which the desktop does not link.
 */
export interface OfficeHealth {
  office: string
  name: string
  role: string
  townships: string[]
  last_sync: number | null
  pending: number
  last_error: string | null
  clock_skew_ms: number | null
}

/** Events the shell emits, by name: their payloads are generated from the Rust types that emit them. */
export interface Events {
  /** A case changed here or arrived by sync; `null` means many. */
  'store-changed': StoreChanged
  'sync-status': SyncStatus
  progress: ProgressEvent
}
