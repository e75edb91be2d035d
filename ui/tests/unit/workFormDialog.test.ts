import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'

vi.mock('../../src/composables/useErrors', () => ({ showError: vi.fn(), showSuccess: vi.fn(), errorMessage: vi.fn() }))

import { recordedAnswer } from '../../src/api/mock'
import type { FieldValue, Vocabularies } from '../../src/api/generated/bindings'
import { app } from '../../src/composables/useApp'
import { showError } from '../../src/composables/useErrors'
import { ElFormItem } from 'element-plus'
import WorkFormDialog from '../../src/components/WorkFormDialog.vue'
import { i18n } from '../../src/i18n'

/** The vocabularies and forms as the real shell gave them (recorded). */
const vocab = recordedAnswer<Vocabularies>('vocabularies')

let wrapper: VueWrapper | null = null

function dialog(kind: string, submit: (fields: Record<string, FieldValue>, handler?: string) => Promise<unknown>, initial?: Record<string, FieldValue>) {
  wrapper = mount(WorkFormDialog, {
    props: { title: 'x', fields: vocab.work_forms[kind] ?? [], initial, submit },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
  return wrapper
}

const input = (key: string) =>
  document.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[data-testid="work-field-${key}"]`)

async function type(key: string, text: string) {
  const el = input(key)
  if (!el) throw new Error(`no field ${key}`)
  el.value = text
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}

async function save() {
  document.querySelector<HTMLButtonElement>('[data-testid="work-save"]')?.click()
  await flushPromises()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  app.vocab = vocab
  vi.mocked(showError).mockReset()
})

afterEach(async () => {
  const warn = console.warn
  const spy = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    if (!String(args[0]).includes('unexpected width')) warn(...args)
  })
  wrapper?.unmount()
  wrapper = null
  await new Promise((resolve) => setTimeout(resolve, 20))
  spy.mockRestore()
  document.body.innerHTML = ''
})

describe('the work record form', () => {
  it('asks for every field the shell lists for the kind, and nothing else', async () => {
    dialog('consult', vi.fn())
    await flushPromises()
    const keys = vocab.work_forms.consult.map((f) => f.key)
    expect(keys).toEqual(['date', 'channel', 'topic', 'answer', 'asker'])
    // One item a field, in the shell's order and under the shell's names.
    const labels = wrapper!.findAllComponents(ElFormItem).map((item) => item.props('label'))
    expect(labels).toEqual(['咨询日期', '咨询方式', '咨询事项', '解答内容', '咨询人'])
    expect(document.querySelector('[data-testid="work-field-leaflets"]')).toBeNull()
    // Required fields are marked from the shell's table: the asker is optional.
    const required = [...document.querySelectorAll('.el-form-item.is-required .el-form-item__label')].map((l) => l.textContent)
    expect(required).toContain('解答内容')
    expect(required).not.toContain('咨询人')
  })

  it('sends what was typed, leaving blank fields out', async () => {
    const submit = vi.fn().mockResolvedValue(undefined)
    const w = dialog('consult', submit, { date: '2026-11-27', channel: 'counter' })
    await flushPromises()
    await type('topic', ' 宅基地审批 ')
    await type('asker', '   ')
    await save()
    expect(submit).toHaveBeenCalledTimes(1)
    const [fields] = submit.mock.calls[0] as [Record<string, FieldValue>]
    expect(fields).toEqual({ date: '2026-11-27', channel: 'counter', topic: ' 宅基地审批 ' })
    expect(w.emitted('done')).toHaveLength(1)
  })

  it('puts the shell\u2019s field errors under their fields and keeps the dialog open', async () => {
    const submit = vi.fn().mockRejectedValue({
      code: 'invalid_input',
      message: '解答内容: 必须填写',
      fields: [
        { field: 'answer', label: '解答内容', message: '必须填写' },
        { field: 'payload', label: 'payload', message: '没有这一项' },
      ],
    })
    const w = dialog('consult', submit)
    await flushPromises()
    await save()
    // Each item's `error` (happy-dom runs no transition that would render its text).
    const shown = w
      .findAllComponents(ElFormItem)
      .map((item) => [item.props('label'), item.props('error')])
      .filter(([, error]) => error)
    expect(shown).toEqual([['解答内容', '必须填写']])
    // A field the form does not show is still said, above the form.
    expect(document.querySelector('[data-testid="work-dialog"] .el-alert')?.textContent).toContain('没有这一项')
    expect(w.emitted('done')).toBeUndefined()
    expect(showError).not.toHaveBeenCalled()
  })

  it('shows a refusal that names no field as a message', async () => {
    const submit = vi.fn().mockRejectedValue({ code: 'refused', message: '这份工作记录已作废，不能再修改' })
    dialog('screening_item', submit)
    await flushPromises()
    await save()
    expect(showError).toHaveBeenCalledTimes(1)
  })
})
