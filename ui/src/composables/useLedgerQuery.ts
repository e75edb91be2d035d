import { reactive } from 'vue'
import type { CaseQuery } from '../api/generated/bindings'

export interface LedgerFilters {
  status: string
  township: string
  category: string
  source: string
  range: [string, string] | null
  overdue: boolean
  text: string
  page: number
  pageSize: number
}

/** Kept at module level so that returning from a case finds the list as it was left. */
export const ledgerFilters = reactive<LedgerFilters>({
  status: '',
  township: '',
  category: '',
  source: '',
  range: null,
  overdue: false,
  text: '',
  page: 1,
  pageSize: 20,
})

export function resetFilters(): void {
  Object.assign(ledgerFilters, {
    status: '',
    township: '',
    category: '',
    source: '',
    range: null,
    overdue: false,
    text: '',
    page: 1,
  })
}

export function toCaseQuery(f: LedgerFilters): CaseQuery {
  const q: CaseQuery = { limit: f.pageSize, offset: (f.page - 1) * f.pageSize }
  if (f.status) q.status = f.status
  if (f.township.trim()) q.township = f.township.trim()
  if (f.category) q.category = f.category
  if (f.source) q.source = f.source
  if (f.range) {
    q.received_from = f.range[0]
    q.received_to = f.range[1]
  }
  if (f.text.trim()) q.text = f.text.trim()
  if (f.overdue) q.overdue = true
  return q
}
