import { afterEach, describe, expect, it } from 'vitest'
import { app } from '../../src/composables/useApp'
import { issuedDocumentOptions } from '../../src/composables/useLabels'
import type { Vocabularies } from '../../src/api/generated/bindings'

const kinds = [
  { code: 'acceptance_notice', label: '受理告知书' },
  { code: 'handling_opinion', label: '信访处理意见书' },
  { code: 'review_opinion', label: '复查意见书' },
]

describe('the documents a case offers', () => {
  afterEach(() => {
    app.vocab = null
  })

  it('lists what the office issues, plus what Rust says this case can print', () => {
    app.vocab = {
      document_kind: kinds,
      issued_documents: ['acceptance_notice', 'handling_opinion'],
    } as unknown as Vocabularies
    const codes = (printable?: string[]) => issuedDocumentOptions(printable).map((o) => o.value)
    // A document not printable yet stays listed: its preview says what is missing.
    expect(codes([])).toEqual(['acceptance_notice', 'handling_opinion'])
    expect(codes(undefined)).toEqual(['acceptance_notice', 'handling_opinion'])
    // The 复查意见书 only where this office is the recorded reviewing body.
    expect(codes(['handling_opinion', 'review_opinion'])).toEqual([
      'acceptance_notice',
      'handling_opinion',
      'review_opinion',
    ])
  })
})
