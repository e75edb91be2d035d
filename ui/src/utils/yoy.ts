import type { Rate } from '../api/generated/bindings'

export interface Change {
  diff: number
  /** Relative change in percent; null when last year had none (no base to compare with). */
  pct: number | null
}

export function yoy(current: number, previous: number): Change {
  const diff = current - previous
  const pct = previous === 0 ? null : Math.round((diff / previous) * 1000) / 10
  return { diff, pct }
}

// U+2212 MINUS SIGN: a hyphen reads as a dash in a column of figures.
const MINUS = '\u2212'

export function formatDiff(diff: number): string {
  if (diff > 0) return `+${diff}`
  if (diff < 0) return `${MINUS}${Math.abs(diff)}`
  return '0'
}

export function formatPct(pct: number | null): string {
  if (pct === null) return '—'
  if (pct > 0) return `+${pct.toFixed(1)}%`
  if (pct < 0) return `${MINUS}${Math.abs(pct).toFixed(1)}%`
  return '0.0%'
}

/** A rate as a percentage with one decimal; `—` when it has no denominator. */
export function formatRate(value: number | null): string {
  if (value === null) return '—'
  return `${(value * 100).toFixed(1)}%`
}

/** Change of a rate in percentage points; null when either year has no value. */
export function rateChange(current: Rate | undefined, previous: Rate | undefined): number | null {
  if (!current || !previous || current.value === null || previous.value === null) return null
  return Math.round((current.value - previous.value) * 1000) / 10
}

export function formatPoints(points: number | null, unit: string): string {
  if (points === null) return '—'
  if (points > 0) return `+${points.toFixed(1)}${unit}`
  if (points < 0) return `${MINUS}${Math.abs(points).toFixed(1)}${unit}`
  return `0.0${unit}`
}

export function changeClass(diff: number | null): string {
  if (diff === null || diff === 0) return 'change-flat'
  return diff > 0 ? 'change-up' : 'change-down'
}
