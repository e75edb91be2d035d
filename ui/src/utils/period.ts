// The periods the 统计 screen asks the shell about: a whole year, or whole months (one month or
// a range). Only the dates are worked out here; every figure comes from the shell.

/** A period as the `statistics` and `export_statistics` commands take it (ISO dates, inclusive). */
export interface DateRange {
  from: string
  to: string
}

/** A month as the month picker gives it: `YYYY-MM`. */
export type YearMonth = string

const pad = (n: number) => String(n).padStart(2, '0')

function parseYearMonth(ym: YearMonth): { year: number; month: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(ym)
  const year = Number(m?.[1])
  const month = Number(m?.[2])
  if (!m || month < 1 || month > 12) throw new Error(`not a month: ${ym}`)
  return { year, month }
}

function lastDay(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** 1 January to 31 December. */
export function yearRange(year: number): DateRange {
  return { from: `${year}-01-01`, to: `${year}-12-31` }
}

/** The first day of `from`'s month to the last day of `to`'s. */
export function monthRange(from: YearMonth, to: YearMonth = from): DateRange {
  const a = parseYearMonth(from)
  const b = parseYearMonth(to)
  return { from: `${a.year}-${pad(a.month)}-01`, to: `${b.year}-${pad(b.month)}-${pad(lastDay(b.year, b.month))}` }
}

/** The same month a year earlier (for the 上年同期 column). */
export function yearEarlier(ym: YearMonth): YearMonth {
  const { year, month } = parseYearMonth(ym)
  return `${year - 1}-${pad(month)}`
}

/** Every month from `from` to `to`, both included, in order; empty when `to` is before `from`. */
export function monthsBetween(from: YearMonth, to: YearMonth): YearMonth[] {
  const a = parseYearMonth(from)
  const b = parseYearMonth(to)
  const out: YearMonth[] = []
  // Months counted from year 0, so a range across a new year is one loop.
  for (let i = a.year * 12 + a.month - 1; i <= b.year * 12 + b.month - 1; i++) {
    out.push(`${Math.floor(i / 12)}-${pad((i % 12) + 1)}`)
  }
  return out
}

/** The year and the month number (1–12) of a `YYYY-MM`. */
export function splitYearMonth(ym: YearMonth): { year: number; month: number } {
  return parseYearMonth(ym)
}
