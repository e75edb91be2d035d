import type { Deadline } from '../api/generated/bindings'

export type TagType = 'primary' | 'success' | 'warning' | 'info' | 'danger'

/** Tag colour of a status: open work is blue or amber, concluded work green, dropped work grey. */
export function statusTagType(status: string): TagType {
  switch (status) {
    case 'registered':
      return 'danger'
    case 'accepted':
    case 'in_progress':
      return 'primary'
    case 'assigned':
    case 'extended':
    case 'under_review':
    case 'under_recheck':
      return 'warning'
    case 'replied':
    case 'reviewed':
    case 'rechecked':
    case 'closed':
      return 'success'
    default:
      return 'info'
  }
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** The local calendar date as `YYYY-MM-DD` (deadlines are counted in local days). */
export function todayISO(now: Date = new Date()): string {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

function dayNumber(iso: string): number {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number)
  return Math.round(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) / 86_400_000)
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from)
}

export type DueState =
  | { kind: 'none' }
  | { kind: 'done'; late: boolean }
  | { kind: 'overdue'; days: number }
  | { kind: 'today' }
  | { kind: 'left'; days: number }
  | { kind: 'closed' }

/** State of a case's next deadline as of `today`. */
export function dueState(nextDue: string | null, today: string): DueState {
  if (!nextDue) return { kind: 'none' }
  const left = daysBetween(today, nextDue)
  if (left < 0) return { kind: 'overdue', days: -left }
  if (left === 0) return { kind: 'today' }
  return { kind: 'left', days: left }
}

/** State of one deadline of the case view (the server has already counted `days_left`). */
export function deadlineState(d: Deadline): DueState {
  if (d.met_on) return { kind: 'done', late: d.late }
  // A window (the petitioner's, or the right to object) that ran out is closed, not overdue work.
  if (d.informational && !d.overdue && d.days_left < 0) return { kind: 'closed' }
  if (d.overdue || d.days_left < 0) return { kind: 'overdue', days: Math.abs(d.days_left) }
  if (d.days_left === 0) return { kind: 'today' }
  return { kind: 'left', days: d.days_left }
}

type Translate = (key: string, named?: Record<string, unknown>) => string

export function dueText(state: DueState, t: Translate): string {
  switch (state.kind) {
    case 'none':
      return ''
    case 'done':
      return state.late ? t('due.doneLate') : t('due.done')
    case 'overdue':
      return t('due.overdue', { n: state.days })
    case 'today':
      return t('due.today')
    case 'left':
      return t('due.left', { n: state.days })
    case 'closed':
      return t('due.closed')
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** The machine's time zone as an offset (UTC+08:00), which every time shown is in. */
export function zoneLabel(at: Date = new Date()): string {
  const minutes = -at.getTimezoneOffset()
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return ''
  const d = new Date(ms)
  return `${todayISO(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** Clock skew beyond which timestamps across offices stop lining up (2 minutes). */
export const SKEW_LIMIT_MS = 2 * 60 * 1000

export function skewTooLarge(ms: number | null | undefined): boolean {
  return ms !== null && ms !== undefined && Math.abs(ms) > SKEW_LIMIT_MS
}

/** Skew as whole minutes when at least one, else seconds, for a sentence. */
export function skewParts(ms: number): { minutes: number } | { seconds: number } {
  const abs = Math.abs(ms)
  if (abs >= 60_000) return { minutes: Math.round(abs / 60_000) }
  return { seconds: Math.round(abs / 1000) }
}
