import { beforeEach, describe, expect, it, vi } from 'vitest'

vi.mock('@tauri-apps/plugin-dialog', () => ({ open: vi.fn(), save: vi.fn() }))
vi.mock('@tauri-apps/api/path', () => ({ documentDir: vi.fn(), homeDir: vi.fn(), join: vi.fn() }))

import { open, save } from '@tauri-apps/plugin-dialog'
import { documentDir, homeDir, join } from '@tauri-apps/api/path'
import { pickAttachments, pickExportPath, pickLedgerFile, pickStatisticsPath, startDirectory } from '../../src/api/dialogs'

const openMock = vi.mocked(open)
const saveMock = vi.mocked(save)

beforeEach(() => {
  vi.mocked(documentDir).mockReset().mockResolvedValue('/home/guotu/文档')
  vi.mocked(homeDir).mockReset().mockResolvedValue('/home/guotu')
  vi.mocked(join).mockReset().mockImplementation(async (...parts: string[]) => parts.join('/'))
  openMock.mockReset().mockResolvedValue(null)
  saveMock.mockReset().mockResolvedValue(null)
})

describe('file dialogs', () => {
  it('start in the documents folder', async () => {
    await pickLedgerFile()
    expect(openMock.mock.calls[0]?.[0]).toMatchObject({ defaultPath: '/home/guotu/文档', multiple: false })
    await pickAttachments()
    expect(openMock.mock.calls[1]?.[0]).toMatchObject({ defaultPath: '/home/guotu/文档', multiple: true })
  })

  it('suggest a file name in the documents folder when saving', async () => {
    await pickExportPath('信访台账-2026-11-30.xlsx')
    expect(saveMock.mock.calls[0]?.[0]).toMatchObject({ defaultPath: '/home/guotu/文档/信访台账-2026-11-30.xlsx' })
    await pickStatisticsPath('2026年信访统计表（全县）.xlsx')
    const options = saveMock.mock.calls[1]?.[0]
    expect(options?.defaultPath).toBe('/home/guotu/文档/2026年信访统计表（全县）.xlsx')
    expect(options?.filters).toEqual([{ name: expect.any(String), extensions: ['xlsx'] }])
  })

  it('fall back to the home folder, then to the dialog’s own default', async () => {
    vi.mocked(documentDir).mockRejectedValue('unknown path')
    await expect(startDirectory()).resolves.toBe('/home/guotu')
    vi.mocked(homeDir).mockRejectedValue('unknown path')
    await expect(startDirectory()).resolves.toBeUndefined()
    await pickExportPath('台账.xlsx')
    expect(saveMock.mock.calls[0]?.[0]).toMatchObject({ defaultPath: '台账.xlsx' })
  })

  it('return what was picked', async () => {
    openMock.mockResolvedValueOnce('/home/guotu/文档/台账.xlsx')
    await expect(pickLedgerFile()).resolves.toBe('/home/guotu/文档/台账.xlsx')
    openMock.mockResolvedValueOnce(['/a.jpg', '/b.jpg'])
    await expect(pickAttachments()).resolves.toEqual(['/a.jpg', '/b.jpg'])
    saveMock.mockResolvedValueOnce('/home/guotu/文档/统计.xlsx')
    await expect(pickStatisticsPath('x.xlsx')).resolves.toBe('/home/guotu/文档/统计.xlsx')
  })
})
