import { app } from './useApp'
import { currentLocale, i18n, rawMessages } from '../i18n'
import type { CodeLabel, Vocabularies } from '../api/generated/bindings'

export type VocabKind = Exclude<
  keyof Vocabularies,
  'category_by_sector' | 'issued_documents' | 'referral_sources' | 'work_forms'
>

// Used when an older shell's `vocabularies` has no outcome list.
const OUTCOME_CODES = ['supported', 'partly_supported', 'explained', 'not_supported']

function messageAt(path: string[], locale = currentLocale()): string | null {
  let node: unknown = rawMessages(locale)
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return null
    node = (node as Record<string, unknown>)[part]
  }
  return typeof node === 'string' ? node : null
}

function serverList(kind: VocabKind): CodeLabel[] {
  const list = app.vocab?.[kind]
  if (list && list.length > 0) return list
  if (kind === 'outcome') {
    return OUTCOME_CODES.map((code) => ({
      code,
      label: messageAt(['vocab', 'outcome', code], 'zh-CN') ?? code,
    }))
  }
  return []
}

/**
 * The name of a coded value: the shell's Chinese label, or in English the name en.json gives
 * that code (the Chinese label when en.json has none).
 */
export function label(kind: VocabKind, code: string | null | undefined): string {
  if (!code) return ''
  // Reading the locale ref makes templates that call this re-render on a language switch.
  const locale = i18n.global.locale.value
  if (locale === 'en') {
    const en = messageAt(['vocab', kind, code], 'en')
    if (en) return en
  }
  const found = serverList(kind).find((v) => v.code === code)
  if (found) return found.label
  return messageAt(['vocab', kind, code], 'zh-CN') ?? code
}

/** Options for a select, in the shell's (report) order. */
export function options(kind: VocabKind): { value: string; label: string }[] {
  return serverList(kind).map((v) => ({ value: v.code, label: label(kind, v.code) }))
}

/** The categories a clerk may choose under a 涉及领域, as the shell computed them. */
export function categoryOptions(sector: string): { value: string; label: string }[] {
  const offered = app.vocab?.category_by_sector?.[sector]
  const all = options('category')
  return offered ? all.filter((o) => offered.includes(o.value)) : all
}

/** The documents an office issues itself, as the shell lists them, plus any other a case's
 *  `printable` (computed in Rust) adds: the 复查意见书 where this office is the reviewing body.
 *  A document not printable yet stays listed: its preview says what is missing. */
export function issuedDocumentOptions(printable?: string[]): { value: string; label: string }[] {
  const issued = app.vocab?.issued_documents
  const all = options('document_kind')
  if (!issued) return all
  return all.filter((o) => issued.includes(o.value) || (printable ?? []).includes(o.value))
}

/** Statistics are keyed by Chinese label: the name to show for one. */
export function labelOfLabel(kind: VocabKind, zhLabel: string): string {
  if (i18n.global.locale.value !== 'en') return zhLabel
  const found = serverList(kind).find((v) => v.label === zhLabel)
  return found ? label(kind, found.code) : zhLabel
}

/** Rates are keyed by their Chinese names. */
export function rateName(zhName: string): string {
  if (i18n.global.locale.value !== 'en') return zhName
  return messageAt(['rateNames', zhName], 'en') ?? zhName
}

/** Localised name of a 证件类型 code (not one of the shell's vocabularies). */
export function idTypeName(code: string): string {
  return messageAt(['idType', code]) ?? code
}
