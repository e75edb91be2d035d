import { describe, expect, it } from 'vitest'
import { changeClass, formatDiff, formatPct, formatPoints, formatRate, rateChange, yoy } from '../../src/utils/yoy'

describe('year-over-year change', () => {
  it('computes the difference and the relative change', () => {
    expect(yoy(137, 120)).toEqual({ diff: 17, pct: 14.2 })
    expect(yoy(90, 120)).toEqual({ diff: -30, pct: -25 })
    expect(yoy(5, 5)).toEqual({ diff: 0, pct: 0 })
  })

  it('has no relative change when last year had none', () => {
    expect(yoy(3, 0)).toEqual({ diff: 3, pct: null })
    expect(yoy(0, 0)).toEqual({ diff: 0, pct: null })
  })

  it('writes signs the way a report does', () => {
    expect(formatDiff(17)).toBe('+17')
    expect(formatDiff(-30)).toBe('\u221230')
    expect(formatDiff(0)).toBe('0')
    expect(formatPct(14.2)).toBe('+14.2%')
    expect(formatPct(-25)).toBe('\u221225.0%')
    expect(formatPct(0)).toBe('0.0%')
    expect(formatPct(null)).toBe('—')
  })

  it('compares rates in percentage points', () => {
    const now = { numerator: 90, denominator: 100, value: 0.9, pending: 0, unknown: 0 }
    const before = { numerator: 85, denominator: 100, value: 0.85, pending: 0, unknown: 0 }
    expect(rateChange(now, before)).toBe(5)
    expect(rateChange(now, { numerator: 0, denominator: 0, value: null, pending: 0, unknown: 0 })).toBeNull()
    expect(rateChange(now, undefined)).toBeNull()
    expect(formatPoints(5, '个百分点')).toBe('+5.0个百分点')
    expect(formatPoints(-2.5, ' pp')).toBe('\u22122.5 pp')
    expect(formatRate(0.8532)).toBe('85.3%')
    expect(formatRate(null)).toBe('—')
  })

  it('marks increases and decreases', () => {
    expect(changeClass(3)).toBe('change-up')
    expect(changeClass(-3)).toBe('change-down')
    expect(changeClass(0)).toBe('change-flat')
    expect(changeClass(null)).toBe('change-flat')
  })
})
