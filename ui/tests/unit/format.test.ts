import { describe, expect, it } from 'vitest'
import type { Deadline } from '../../src/api/generated/bindings'
import {
  daysBetween,
  deadlineState,
  zoneLabel,
  dueState,
  dueText,
  formatSize,
  skewParts,
  skewTooLarge,
  statusTagType,
  todayISO,
} from '../../src/utils/format'
import { i18n } from '../../src/i18n'
import zhCN from '../../src/i18n/zh-CN.json'
import en from '../../src/i18n/en.json'
import { HUB_WARNING_CODES, SYNC_ERROR_CODES, hubWarningKey, syncErrorKey } from '../../src/utils/syncErrors'

const t = (key: string, named?: Record<string, unknown>) => i18n.global.t(key, named ?? {})

function deadline(over: Partial<Deadline>): Deadline {
  return {
    kind: 'handle',
    start: '2024-03-01',
    due: '2024-04-30',
    met_on: null,
    days_left: 10,
    overdue: false,
    late: false,
    informational: false,
    estimated: false,
    ...over,
  }
}

describe('status tags', () => {
  it('colours open, concluded and dropped work differently', () => {
    expect(statusTagType('registered')).toBe('danger')
    expect(statusTagType('in_progress')).toBe('primary')
    expect(statusTagType('assigned')).toBe('warning')
    expect(statusTagType('extended')).toBe('warning')
    expect(statusTagType('closed')).toBe('success')
    expect(statusTagType('replied')).toBe('success')
    expect(statusTagType('voided')).toBe('info')
    expect(statusTagType('something_new')).toBe('info')
  })
})

describe('deadlines', () => {
  it('counts calendar days across months and years', () => {
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2)
    expect(daysBetween('2024-12-31', '2025-01-01')).toBe(1)
    expect(daysBetween('2024-03-10', '2024-03-01')).toBe(-9)
  })

  it('formats the local date', () => {
    expect(todayISO(new Date(2024, 0, 5, 23, 59))).toBe('2024-01-05')
  })

  it('words the next deadline of a row', () => {
    expect(dueText(dueState('2024-03-08', '2024-03-05'), t)).toBe('剩余3天')
    expect(dueText(dueState('2024-03-05', '2024-03-05'), t)).toBe('今天到期')
    expect(dueText(dueState('2024-03-01', '2024-03-05'), t)).toBe('已超期4天')
    expect(dueState(null, '2024-03-05')).toEqual({ kind: 'none' })
    expect(dueText({ kind: 'none' }, t)).toBe('')
  })

  it('words a deadline of the case view', () => {
    expect(dueText(deadlineState(deadline({ days_left: 12 })), t)).toBe('剩余12天')
    expect(dueText(deadlineState(deadline({ days_left: -3, overdue: true })), t)).toBe('已超期3天')
    expect(dueText(deadlineState(deadline({ met_on: '2024-04-01' })), t)).toBe('已完成')
    expect(dueText(deadlineState(deadline({ met_on: '2024-05-02', late: true, days_left: -20 })), t)).toBe('已完成（逾期）')
    expect(deadlineState(deadline({ days_left: 0 }))).toEqual({ kind: 'today' })
  })

  it('names the machine\'s zone as an offset', () => {
    const at = (offset: number) => ({ getTimezoneOffset: () => offset }) as Date
    expect(zoneLabel(at(-480))).toBe('UTC+08:00')
    expect(zoneLabel(at(0))).toBe('UTC+00:00')
    expect(zoneLabel(at(330))).toBe('UTC-05:30')
  })

  it('a window that ran out is closed, never overdue work', () => {
    // 异议期限 or 复查申请期限 past its last day: a right not used, not a duty missed.
    expect(dueText(deadlineState(deadline({ days_left: -9, informational: true })), t)).toBe('已届满')
    expect(dueText(deadlineState(deadline({ days_left: 2, informational: true })), t)).toBe('剩余2天')
  })

  it('speaks English too', () => {
    const en = (key: string, named?: Record<string, unknown>) => i18n.global.t(key, named ?? {}, { locale: 'en' })
    expect(dueText(dueState('2024-03-01', '2024-03-05'), en)).toBe('4 days overdue')
  })
})

describe('small formatters', () => {
  it('formats sizes', () => {
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(482_133)).toBe('470.8 KB')
    expect(formatSize(3 * 1024 * 1024)).toBe('3.0 MB')
  })

  it('warns about clock skew beyond two minutes only', () => {
    expect(skewTooLarge(null)).toBe(false)
    expect(skewTooLarge(119_000)).toBe(false)
    expect(skewTooLarge(-121_000)).toBe(true)
    expect(skewParts(-300_000)).toEqual({ minutes: 5 })
    expect(skewParts(45_000)).toEqual({ seconds: 45 })
  })

  it('has a sentence for every sync error code', () => {
    const codes = [
      'offline', 'timeout', 'unauthorized', 'refused', 'too_large', 'unsupported_version', 'server_error',
      'bad_response', 'local_error', 'not_enrolled',
      'tls_untrusted', 'tls_expired', 'tls_not_yet_valid', 'tls_wrong_name', 'tls_failed',
    ]
    for (const code of codes) {
      expect(syncErrorKey(code)).toBe(`syncErrors.${code}`)
      expect(syncErrorKey(code, true)).toBe(`syncErrorsShort.${code}`)
      expect(t(syncErrorKey(code))).not.toBe(syncErrorKey(code))
    }
    expect(syncErrorKey('quantum_flux')).toBe('syncErrors.unknown')
    expect(t('syncErrors.unauthorized')).toContain('本机的同步凭据无效')
    expect(t('syncErrors.offline')).toContain('无法连接县局服务器')
    expect(t('syncErrors.tls_untrusted')).toContain('切勿忽略')
    expect(t('syncErrorsShort.tls_expired')).toBe('县局证书已过期')
  })

  it('words every sync error and hub warning code, long and short, in both languages', () => {
    type Lists = { syncErrors: Record<string, string>; syncErrorsShort: Record<string, string> }
    for (const [name, tree] of [['zh-CN', zhCN], ['en', en]] as const) {
      const lists = tree as unknown as Lists
      for (const code of [...SYNC_ERROR_CODES, ...HUB_WARNING_CODES]) {
        expect(lists.syncErrors[code], `${name}: syncErrors.${code}`).toBeTruthy()
        expect(lists.syncErrorsShort[code], `${name}: syncErrorsShort.${code}`).toBeTruthy()
      }
    }
    expect(en.syncErrors.tls_failed).toContain('https://')
  })

  it('names the hub warning by its code, never as a sync failure', () => {
    expect(hubWarningKey('plain_http')).toBe('syncErrors.plain_http')
    expect(hubWarningKey('plain_http', true)).toBe('syncErrorsShort.plain_http')
    expect(t(hubWarningKey('plain_http'))).toContain('没有加密')
    expect(t(hubWarningKey('plain_http', true))).toBe('连接未加密')
    // A warning from a newer shell still warns, in general terms.
    expect(hubWarningKey('weak_cipher')).toBe('app.hubWarning')
    expect(t(hubWarningKey('weak_cipher'))).not.toBe('app.hubWarning')
  })
})
