import { describe, expect, it } from 'vitest'
import { monthRange, monthsBetween, splitYearMonth, yearEarlier, yearRange } from '../../src/utils/period'

describe('statistics periods', () => {
  it('gives a whole year', () => {
    expect(yearRange(2017)).toEqual({ from: '2017-01-01', to: '2017-12-31' })
  })

  it('gives one month, to its last day', () => {
    expect(monthRange('2017-03')).toEqual({ from: '2017-03-01', to: '2017-03-31' })
    expect(monthRange('2017-04')).toEqual({ from: '2017-04-01', to: '2017-04-30' })
    expect(monthRange('2017-12')).toEqual({ from: '2017-12-01', to: '2017-12-31' })
  })

  it('knows February in leap years', () => {
    expect(monthRange('2024-02').to).toBe('2024-02-29')
    expect(monthRange('2023-02').to).toBe('2023-02-28')
    expect(monthRange('2000-02').to).toBe('2000-02-29')
    expect(monthRange('1900-02').to).toBe('1900-02-28')
  })

  it('gives a range of months, across a new year too', () => {
    expect(monthRange('2017-03', '2017-06')).toEqual({ from: '2017-03-01', to: '2017-06-30' })
    expect(monthRange('2016-11', '2017-02')).toEqual({ from: '2016-11-01', to: '2017-02-28' })
  })

  it('compares with the same months a year earlier (29 February becomes the 28th)', () => {
    expect(yearEarlier('2017-03')).toBe('2016-03')
    expect(yearEarlier('2017-01')).toBe('2016-01')
    expect(monthRange(yearEarlier('2025-02'))).toEqual({ from: '2024-02-01', to: '2024-02-29' })
    expect(monthRange(yearEarlier('2024-02'))).toEqual({ from: '2023-02-01', to: '2023-02-28' })
  })

  it('lists the months of a range', () => {
    expect(monthsBetween('2017-03', '2017-03')).toEqual(['2017-03'])
    expect(monthsBetween('2017-03', '2017-05')).toEqual(['2017-03', '2017-04', '2017-05'])
    expect(monthsBetween('2016-11', '2017-02')).toEqual(['2016-11', '2016-12', '2017-01', '2017-02'])
    expect(monthsBetween('2017-01', '2017-12')).toHaveLength(12)
    expect(monthsBetween('2017-05', '2017-03')).toEqual([])
  })

  it('refuses what is not a month', () => {
    expect(() => monthRange('2017-13')).toThrow()
    expect(() => monthRange('2017-3')).toThrow()
    expect(() => monthRange('')).toThrow()
    expect(splitYearMonth('2017-09')).toEqual({ year: 2017, month: 9 })
  })
})
