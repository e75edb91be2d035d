import { beforeEach, describe, expect, it, vi } from 'vitest'

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }))

import { invoke } from '@tauri-apps/api/core'
import { pickAttachments, pickExportFile, pickLedgerFile, pickStatisticsFile } from '../../src/api/dialogs'
import { i18n } from '../../src/i18n'
import zhCN from '../../src/i18n/zh-CN.json'

const invokeMock = vi.mocked(invoke)
const words = zhCN.dialogs

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  invokeMock.mockReset().mockResolvedValue([])
})

describe('file dialogs', () => {
  it('are opened by the shell, with the UI’s words and never a path', async () => {
    await pickLedgerFile()
    await pickAttachments()
    await pickExportFile('信访台账-2026-11-30.xlsx')
    await pickStatisticsFile('2026年信访统计表（全县）.xlsx')
    expect(invokeMock.mock.calls).toEqual([
      ['pick_files', { purpose: 'open_ledger', text: { title: words.importTitle, filter: words.ledgerFiles, default_name: '' } }],
      ['pick_files', { purpose: 'attachments', text: { title: words.attachTitle, filter: '', default_name: '' } }],
      ['pick_files', { purpose: 'save_ledger', text: { title: words.exportTitle, filter: words.ledgerFiles, default_name: '信访台账-2026-11-30.xlsx' } }],
      ['pick_files', { purpose: 'save_statistics', text: { title: words.statisticsTitle, filter: words.xlsx, default_name: '2026年信访统计表（全县）.xlsx' } }],
    ])
  })

  it('follow the language of the UI', async () => {
    i18n.global.locale.value = 'en'
    await pickLedgerFile()
    expect(invokeMock.mock.calls[0]?.[1]).toMatchObject({ text: { title: 'Choose a ledger file to import' } })
  })

  it('return what was picked', async () => {
    invokeMock.mockResolvedValueOnce([{ handle: 'h1', name: '台账.xlsx' }])
    await expect(pickLedgerFile()).resolves.toEqual({ handle: 'h1', name: '台账.xlsx' })
    invokeMock.mockResolvedValueOnce([
      { handle: 'h2', name: 'a.jpg' },
      { handle: 'h3', name: 'b.jpg' },
    ])
    await expect(pickAttachments()).resolves.toEqual([
      { handle: 'h2', name: 'a.jpg' },
      { handle: 'h3', name: 'b.jpg' },
    ])
    invokeMock.mockResolvedValueOnce([{ handle: 'h4', name: '统计.xlsx' }])
    await expect(pickStatisticsFile('x.xlsx')).resolves.toEqual({ handle: 'h4', name: '统计.xlsx' })
  })

  it('return nothing when the user cancels', async () => {
    await expect(pickLedgerFile()).resolves.toBeNull()
    await expect(pickExportFile('台账.xlsx')).resolves.toBeNull()
    await expect(pickStatisticsFile('统计.xlsx')).resolves.toBeNull()
    await expect(pickAttachments()).resolves.toEqual([])
  })
})
