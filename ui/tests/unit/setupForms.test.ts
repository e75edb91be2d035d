import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { ElFormItem } from 'element-plus'

vi.mock('../../src/api/ipc', async (original) => ({
  ...(await original<typeof import('../../src/api/ipc')>()),
  enroll: vi.fn(),
  setupLocal: vi.fn(),
}))
vi.mock('../../src/composables/useErrors', () => ({ showError: vi.fn(), showSuccess: vi.fn(), errorMessage: vi.fn() }))

import * as ipc from '../../src/api/ipc'
import { recordedAnswer } from '../../src/api/mock'
import type { AppState } from '../../src/api/generated/bindings'
import SetupForms from '../../src/components/SetupForms.vue'
import { i18n } from '../../src/i18n'
import { checkNewPassphrase } from '../../src/utils/passphrase'

const initialAppState = () => recordedAnswer<AppState>('app_state')

const enroll = vi.mocked(ipc.enroll)
const setupLocal = vi.mocked(ipc.setupLocal)
const t = (key: string, named?: Record<string, unknown>) => i18n.global.t(key, named ?? {})

let wrapper: VueWrapper | null = null

function forms(keyring: boolean) {
  wrapper = mount(SetupForms, { props: { keyring }, global: { plugins: [i18n] }, attachTo: document.body })
  return wrapper
}

const input = (w: VueWrapper, id: string) => w.find(`input[data-testid="${id}"]`)
// The messages the visible tab's form items show (happy-dom does not run Element's transition
// that renders the text, so the items' `error` is read). Both tabs share one set of errors.
const errorsShown = (w: VueWrapper) =>
  w
    .findAllComponents(ElFormItem)
    .filter((item) => item.isVisible())
    .map((item) => item.props('error') as string | undefined)
    .filter(Boolean)

async function fillEnroll(w: VueWrapper) {
  await input(w, 'setup-hub').setValue('https://county-hub:8750')
  await input(w, 'setup-token').setValue('T0K3N')
  await input(w, 'setup-staff-input').setValue('李娟')
  await input(w, 'setup-staff-input').trigger('keyup', { key: 'Enter' })
}

async function submitEnroll(w: VueWrapper) {
  await w.find('[data-testid="setup-enroll"]').trigger('click')
  await flushPromises()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  enroll.mockReset()
  setupLocal.mockReset()
})

afterEach(async () => {
  // happy-dom lays nothing out: Element's auto label width measures NaN and warns.
  const warn = console.warn
  const spy = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    if (!String(args[0]).includes('unexpected width')) warn(...args)
  })
  wrapper?.unmount()
  wrapper = null
  await flushPromises()
  spy.mockRestore()
})

describe('the new 台账口令 check', () => {
  it('wants one of at least 8 characters, counted as characters, and the same twice', () => {
    expect(checkNewPassphrase('测试台账口令-2026', '测试台账口令-2026', t)).toEqual([])
    expect(checkNewPassphrase('台账口令台账口令', '台账口令台账口令', t)).toEqual([])
    expect(checkNewPassphrase('', '', t).map((e) => [e.field, e.message])).toEqual([
      ['passphrase', '请设置台账口令'],
      ['passphrase_confirm', '请再次输入台账口令'],
    ])
    expect(checkNewPassphrase('  1234567  ', '  1234567  ', t).map((e) => [e.field, e.message])).toEqual([
      ['passphrase', '台账口令至少 8 个字符'],
    ])
    expect(checkNewPassphrase('12345678', '12345679', t).map((e) => [e.field, e.message])).toEqual([
      ['passphrase_confirm', '两次输入的台账口令不一致'],
    ])
  })
})

describe('the set-up forms', () => {
  it('ask for a passphrase without a keyring and refuse a short or mismatched one', async () => {
    const w = forms(false)
    await fillEnroll(w)
    expect(input(w, 'setup-passphrase').attributes('type')).toBe('password')
    await input(w, 'setup-passphrase').setValue('1234567')
    await input(w, 'setup-passphrase-confirm').setValue('1234567')
    await submitEnroll(w)
    expect(errorsShown(w)).toEqual(['台账口令至少 8 个字符'])
    await input(w, 'setup-passphrase').setValue('测试台账口令-2026')
    await input(w, 'setup-passphrase-confirm').setValue('测试台账口令-2025')
    await submitEnroll(w)
    expect(errorsShown(w)).toEqual(['两次输入的台账口令不一致'])
    expect(enroll).not.toHaveBeenCalled()

    const state = { ...initialAppState(), recovery: 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ23' }
    enroll.mockResolvedValueOnce(state)
    await input(w, 'setup-passphrase-confirm').setValue('测试台账口令-2026')
    await submitEnroll(w)
    expect(errorsShown(w)).toEqual([])
    expect(enroll).toHaveBeenCalledWith('https://county-hub:8750', 'T0K3N', ['李娟'], '', '测试台账口令-2026')
    expect(w.emitted('ready')).toEqual([[state]])
  })

  it('place the shell’s passphrase error under the field', async () => {
    const w = forms(false)
    await fillEnroll(w)
    await input(w, 'setup-passphrase').setValue('12345678')
    await input(w, 'setup-passphrase-confirm').setValue('12345678')
    enroll.mockRejectedValueOnce({
      code: 'invalid_input',
      message: '台账口令：口令至少 8 个字符',
      fields: [{ field: 'passphrase', label: '台账口令', message: '口令至少 8 个字符' }],
    })
    await submitEnroll(w)
    expect(errorsShown(w)).toEqual(['口令至少 8 个字符'])
    expect(w.findAll('.el-alert')).toHaveLength(0)
  })

  it('ask for no passphrase where the keyring keeps the key', async () => {
    const w = forms(true)
    expect(input(w, 'setup-passphrase').exists()).toBe(false)
    await fillEnroll(w)
    enroll.mockResolvedValueOnce(initialAppState())
    await submitEnroll(w)
    expect(enroll).toHaveBeenCalledWith('https://county-hub:8750', 'T0K3N', ['李娟'], '', null)
  })

  it('check the local set-up’s passphrase too', async () => {
    const w = forms(false)
    await w.findAll('.el-tabs__item')[1]!.trigger('click')
    await flushPromises()
    await input(w, 'local-code').setValue('hq')
    await input(w, 'local-name').setValue('黄桥镇国土所')
    await input(w, 'local-townships-input').setValue('黄桥镇')
    await input(w, 'local-townships-input').trigger('keyup', { key: 'Enter' })
    await input(w, 'local-staff-input').setValue('刘洪')
    await input(w, 'local-staff-input').trigger('keyup', { key: 'Enter' })
    await w.find('[data-testid="setup-local"]').trigger('click')
    await flushPromises()
    expect(errorsShown(w)).toEqual(['请设置台账口令', '请再次输入台账口令'])
    await input(w, 'local-passphrase').setValue('测试台账口令-2026')
    await input(w, 'local-passphrase-confirm').setValue('测试台账口令-2026')
    setupLocal.mockResolvedValueOnce(initialAppState())
    await w.find('[data-testid="setup-local"]').trigger('click')
    await flushPromises()
    expect(setupLocal).toHaveBeenCalledWith({
      code: 'hq',
      name: '黄桥镇国土所',
      role: 'township',
      townships: ['黄桥镇'],
      staff: ['刘洪'],
      passphrase: '测试台账口令-2026',
    })
  })
})
