import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'

vi.mock('../../src/api/ipc', async (original) => ({
  ...(await original<typeof import('../../src/api/ipc')>()),
  rulesView: vi.fn(),
  setRule: vi.fn(),
}))
vi.mock('../../src/composables/useErrors', () => ({ showError: vi.fn(), showSuccess: vi.fn(), errorMessage: vi.fn() }))

import * as ipc from '../../src/api/ipc'
import { recordedAnswer } from '../../src/api/mock'
import type { RulesView } from '../../src/api/generated/bindings'
import { showError, showSuccess } from '../../src/composables/useErrors'
import RulesPanel from '../../src/components/RulesPanel.vue'
import { i18n } from '../../src/i18n'

/** 全县规则 as the real bureau's `rules_view` gave them (recorded), with the two flags the shell sets by role and link. */
const initialRules = (editable: boolean, received: boolean): RulesView => ({ ...recordedAnswer<RulesView>('rules_view'), editable, received })

const rulesView = vi.mocked(ipc.rulesView)
const setRule = vi.mocked(ipc.setRule)

let wrapper: VueWrapper | null = null

async function panel(view: RulesView) {
  rulesView.mockResolvedValueOnce(view)
  wrapper = mount(RulesPanel, { global: { plugins: [i18n] }, attachTo: document.body })
  await flushPromises()
  // Element lays the tables out after a tick.
  await new Promise((resolve) => setTimeout(resolve, 50))
  return wrapper
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  rulesView.mockReset()
  setRule.mockReset()
  vi.mocked(showError).mockReset()
  vi.mocked(showSuccess).mockReset()
})

afterEach(async () => {
  // happy-dom lays nothing out: Element's auto label width measures NaN and warns, a tick after
  // the form goes. Only that warning is silenced.
  const warn = console.warn
  const spy = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    if (!String(args[0]).includes('unexpected width')) warn(...args)
  })
  wrapper?.unmount()
  wrapper = null
  await flushPromises()
  spy.mockRestore()
})

// The recorded rules list every category's legal basis: the panel takes longer to render.
describe('the county rules panel', { timeout: 30_000 }, () => {
  it('shows a township the rules read-only, with nothing to save', async () => {
    const view = initialRules(false, true)
    view.county.review_body = '洞口县人民政府'
    const w = await panel(view)
    expect(w.find('[data-testid="rules-review-body-text"]').text()).toBe('洞口县人民政府')
    expect(w.find('[data-testid="rules-review-body"]').exists()).toBe(false)
    expect(w.find('[data-testid="rules-issuer"]').exists()).toBe(false)
    expect(w.find('[data-testid="rules-issuer-text"]').text()).toBe('由县局编号出具，国土所起草')
    expect(w.findAll('[data-testid^="rules-save"]')).toHaveLength(0)
    expect(w.findAll('[data-testid^="rules-edit-basis"]')).toHaveLength(0)
    expect(w.find('[data-testid="rules-adjust"]').exists()).toBe(false)
    expect(w.find('[data-testid="rules-holiday-text"]').exists()).toBe(false)
    expect(w.find('[data-testid="rules-not-received"]').exists()).toBe(false)
    expect(w.find('[data-testid="rules-coverage"]').text()).toContain('2026-12-31')
    expect(w.find('[data-testid="rules-policy-table"]').text()).toContain('现行')
    expect(w.find('[data-testid="rules-basis-table"]').text()).toContain('第七十七条')
  })

  it('says when no reviewing body is set', async () => {
    const w = await panel(initialRules(false, true))
    expect(w.find('[data-testid="rules-review-body-text"]').text()).toBe('未设置（意见书写「本机关的上一级行政机关」）')
  })

  it('lets the bureau save the reviewing body and shows the view it gets back', async () => {
    const w = await panel(initialRules(true, true))
    const returned = initialRules(true, true)
    returned.county.review_body = '洞口县人民政府'
    returned.entries = [
      {
        item: 'county.review_body',
        label: '县局设置·复查机关',
        value: '洞口县人民政府',
        from: '2026-05-01',
        recorded_at: Date.UTC(2026, 4, 1, 2, 0),
        handler: '李娟',
        note: '',
      },
    ]
    setRule.mockResolvedValueOnce(returned)
    await w.find('input[data-testid="rules-review-body"]').setValue('洞口县人民政府')
    await w.find('[data-testid="rules-save-review-body"]').trigger('click')
    await flushPromises()
    expect(setRule).toHaveBeenCalledTimes(1)
    expect(setRule.mock.calls[0]?.slice(0, 2)).toEqual(['county.review_body', '洞口县人民政府'])
    expect(showSuccess).toHaveBeenCalledWith('全县规则已保存')
    expect(showError).not.toHaveBeenCalled()
    const entries = w.find('[data-testid="rules-entries"]').text()
    expect(entries).toContain('县局设置·复查机关')
    expect(entries).toContain('李娟')
    expect((w.find('input[data-testid="rules-review-body"]').element as HTMLInputElement).value).toBe('洞口县人民政府')
  })

  it('asks for the township documents’ reviewing body only where townships issue their own', async () => {
    const w = await panel(initialRules(true, true))
    expect(w.find('[data-testid="rules-township-review-body"]').exists()).toBe(false)
    w.unmount()
    const own = initialRules(true, true)
    own.county.issues_own_documents = true
    const v = await panel(own)
    setRule.mockResolvedValueOnce(own)
    await v.find('input[data-testid="rules-township-review-body"]').setValue('洞口县人民政府')
    await v.find('[data-testid="rules-save-township-review-body"]').trigger('click')
    await flushPromises()
    expect(setRule.mock.calls[0]?.slice(0, 2)).toEqual(['county.township_review_body', '洞口县人民政府'])
  })

  it('shows the shell’s refusal and keeps the view', async () => {
    const w = await panel(initialRules(true, true))
    const refusal = { code: 'invalid_input', message: '复查机关：复查机关名称应为 1 至 60 个字' }
    setRule.mockRejectedValueOnce(refusal)
    await w.find('[data-testid="rules-save-review-body"]').trigger('click')
    await flushPromises()
    expect(setRule.mock.calls[0]?.slice(0, 2)).toEqual(['county.review_body', ''])
    expect(showError).toHaveBeenCalledWith(refusal)
    expect(showSuccess).not.toHaveBeenCalled()
    expect(w.find('[data-testid="rules-entries"]').text()).toContain('尚无变更记录')
  })

  it('says when the rules have not arrived from the hub', async () => {
    const w = await panel(initialRules(false, false))
    expect(w.find('[data-testid="rules-not-received"]').text()).toBe('尚未从县局服务器收到全县规则，以下为本版本内置的规则')
  })
})
