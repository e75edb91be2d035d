import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'

vi.mock('../../src/api/ipc', async (original) => ({
  ...(await original<typeof import('../../src/api/ipc')>()),
  syncStatus: vi.fn(),
  quarantine: vi.fn(),
  hubOffices: vi.fn(),
  restartSync: vi.fn(),
  syncProblems: vi.fn(),
  dismissSyncProblems: vi.fn(),
}))
vi.mock('../../src/composables/useEvents', () => ({ useEvent: vi.fn() }))
vi.mock('../../src/composables/useErrors', () => ({ showError: vi.fn(), showSuccess: vi.fn(), errorMessage: vi.fn() }))

import { ElMessageBox } from 'element-plus'
import * as ipc from '../../src/api/ipc'
import type { AppState, SyncStatus } from '../../src/api/generated/bindings'
import { app } from '../../src/composables/useApp'
import { showSuccess } from '../../src/composables/useErrors'
import { i18n } from '../../src/i18n'
import SyncView from '../../src/views/SyncView.vue'

const status = (lastError: string | null): SyncStatus =>
  ({
    last_success: null,
    last_attempt: null,
    pending: 0,
    quarantined: 0,
    last_error: lastError,
    last_error_detail: null,
    clock_skew_ms: null,
    online: true,
    syncing: false,
    pass_downloaded: 0,
    pass_uploaded: 0,
    unresolved: 0,
  }) as unknown as SyncStatus

let wrapper: VueWrapper | null = null

async function view(lastError: string | null) {
  vi.mocked(ipc.syncStatus).mockResolvedValue(status(lastError))
  app.state = { ready: true, hub: 'https://hub.example:8443' } as unknown as AppState
  app.sync = status(lastError)
  wrapper = mount(SyncView, { global: { plugins: [i18n] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(ipc.quarantine).mockResolvedValue([])
  vi.mocked(ipc.hubOffices).mockResolvedValue([])
  vi.mocked(ipc.syncProblems).mockResolvedValue([])
  vi.mocked(ipc.dismissSyncProblems).mockReset()
  vi.mocked(ipc.restartSync).mockReset()
  vi.mocked(showSuccess).mockReset()
})

afterEach(async () => {
  wrapper?.unmount()
  wrapper = null
  app.state = null
  app.sync = null
  vi.restoreAllMocks()
  await flushPromises()
})

describe('the sync screen', () => {
  it('offers a damaged sync position the restart, and only that error', async () => {
    const offline = await view('offline')
    expect(offline.find('[data-testid="sync-restart"]').exists()).toBe(false)
    offline.unmount()
    wrapper = null

    const w = await view('sync_position_damaged')
    expect(w.find('[data-testid="sync-error"]').text()).toContain('同步进度记录已损坏')
    vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    vi.mocked(ipc.restartSync).mockResolvedValue({ rounds: 2, uploaded: 0, downloaded: 40, refused: 0, retries: 0 } as never)
    await w.find('[data-testid="sync-restart"]').trigger('click')
    await flushPromises()
    expect(ipc.restartSync).toHaveBeenCalledTimes(1)
    expect(showSuccess).toHaveBeenCalledWith('已从头重新同步')
  })

  it('names what sync skipped until the clerk has looked, and dismisses exactly what was shown', async () => {
    const none = await view(null)
    expect(none.find('[data-testid="sync-problems"]').exists()).toBe(false)
    none.unmount()
    wrapper = null

    const lines = ['案件 甲 从县局收到的一条更改无法读取，已跳过；请联系县局核对该案件', '案件 乙 从县局收到的数据无法读取，已跳过；请联系县局核对该案件']
    vi.mocked(ipc.syncProblems).mockResolvedValue(lines)
    const w = await view(null)
    const panel = w.find('[data-testid="sync-problems"]')
    expect(panel.text()).toContain('有 2 项同步内容本机无法使用')
    expect(panel.findAll('li').map((li) => li.text())).toEqual(lines)
    vi.mocked(ipc.dismissSyncProblems).mockResolvedValue(0)
    vi.mocked(ipc.syncProblems).mockResolvedValue([])
    await w.find('[data-testid="sync-problems-dismiss"]').trigger('click')
    await flushPromises()
    expect(ipc.dismissSyncProblems).toHaveBeenCalledWith(lines)
    expect(showSuccess).toHaveBeenCalledWith('已标记为已知晓')
    expect(w.find('[data-testid="sync-problems"]').exists()).toBe(false)
  })

  it('does nothing when the clerk cancels', async () => {
    const w = await view('sync_position_damaged')
    vi.spyOn(ElMessageBox, 'confirm').mockRejectedValue('cancel')
    await w.find('[data-testid="sync-restart"]').trigger('click')
    await flushPromises()
    expect(ipc.restartSync).not.toHaveBeenCalled()
  })
})
