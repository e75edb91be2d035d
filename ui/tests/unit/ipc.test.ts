import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }))
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }))

import { invoke } from '@tauri-apps/api/core'
import { listen } from '@tauri-apps/api/event'
import * as ipc from '../../src/api/ipc'

const invokeMock = vi.mocked(invoke)

beforeEach(() => {
  invokeMock.mockReset()
  invokeMock.mockResolvedValue(null)
})

function commandsOfContract(): string[] {
  const text = readFileSync(join(process.cwd(), 'src/api/commands.md'), 'utf8')
  return [...text.matchAll(/^\| ([a-z_]+) \|/gm)].map((m) => m[1] as string).filter((c) => c !== 'command')
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

describe('ipc wrappers', () => {
  it('export one camelCase function for every command of commands.md', () => {
    const commands = commandsOfContract()
    expect(commands.length).toBeGreaterThan(25)
    for (const command of commands) {
      expect(typeof (ipc as Record<string, unknown>)[camel(command)], command).toBe('function')
    }
  })

  it.each([
    ['appState', () => ipc.appState(), 'app_state', undefined],
    ['vocabularies', () => ipc.vocabularies(), 'vocabularies', undefined],
    ['enroll', () => ipc.enroll('https://hub:8750', 'T0K', ['李娟']), 'enroll', { hub: 'https://hub:8750', token: 'T0K', staff: ['李娟'], fingerprint: null, passphrase: null }],
    ['enroll blank fingerprint', () => ipc.enroll('https://hub:8750', 'T0K', ['李娟'], '  '), 'enroll', { hub: 'https://hub:8750', token: 'T0K', staff: ['李娟'], fingerprint: null, passphrase: null }],
    [
      'enroll with fingerprint',
      () => ipc.enroll('https://10.0.0.5:8750', 'T0K', ['李娟'], ' AB:CD:EF '),
      'enroll',
      { hub: 'https://10.0.0.5:8750', token: 'T0K', staff: ['李娟'], fingerprint: 'AB:CD:EF', passphrase: null },
    ],
    [
      'enroll with a passphrase (no keyring), sent as typed',
      () => ipc.enroll('https://hub:8750', 'T0K', ['李娟'], undefined, ' 测试台账口令-2026'),
      'enroll',
      { hub: 'https://hub:8750', token: 'T0K', staff: ['李娟'], fingerprint: null, passphrase: ' 测试台账口令-2026' },
    ],
    [
      'enroll with a blank passphrase (the keyring)',
      () => ipc.enroll('https://hub:8750', 'T0K', ['李娟'], 'AB:CD', '   '),
      'enroll',
      { hub: 'https://hub:8750', token: 'T0K', staff: ['李娟'], fingerprint: 'AB:CD', passphrase: null },
    ],
    [
      'setupLocal',
      () => ipc.setupLocal({ code: 'hq', name: '黄桥镇国土所', role: 'township', townships: ['黄桥镇'], staff: ['刘洪'] }),
      'setup_local',
      { code: 'hq', name: '黄桥镇国土所', role: 'township', townships: ['黄桥镇'], staff: ['刘洪'], passphrase: null },
    ],
    [
      'setupLocal with a passphrase',
      () => ipc.setupLocal({ code: 'hq', name: '黄桥镇国土所', role: 'bureau', townships: [], staff: ['刘洪'], passphrase: '县局台账口令2026' }),
      'setup_local',
      { code: 'hq', name: '黄桥镇国土所', role: 'bureau', townships: [], staff: ['刘洪'], passphrase: '县局台账口令2026' },
    ],
    ['unlock', () => ipc.unlock('测试台账口令-2026'), 'unlock', { passphrase: '测试台账口令-2026' }],
    ['unlock with the recovery passphrase', () => ipc.unlock('7K2M-Q9DX-ABCD-EFGH-JKMN-PQRS'), 'unlock', { passphrase: '7K2M-Q9DX-ABCD-EFGH-JKMN-PQRS' }],
    ['recoveryShown', () => ipc.recoveryShown(), 'recovery_shown', undefined],
    ['updateStaff', () => ipc.updateStaff(['刘洪']), 'update_staff', { staff: ['刘洪'] }],
    ['removeDemo', () => ipc.removeDemo(), 'remove_demo', { handler: null }],
    ['rulesView', () => ipc.rulesView(), 'rules_view', undefined],
    ['setRule', () => ipc.setRule('county.review_body', '洞口县人民政府'), 'set_rule', { item: 'county.review_body', value: '洞口县人民政府', from: null, note: null, handler: null }],
    [
      'setRule dated',
      () => ipc.setRule('policy.decide_days', '10', '2027-01-01', '湘信发〔2026〕1号', '李娟'),
      'set_rule',
      { item: 'policy.decide_days', value: '10', from: '2027-01-01', note: '湘信发〔2026〕1号', handler: '李娟' },
    ],
    ['listCases', () => ipc.listCases({ text: '张', limit: 20, offset: 0 }), 'list_cases', { query: { text: '张', limit: 20, offset: 0 } }],
    ['caseDetail', () => ipc.caseDetail('c1'), 'case_detail', { id: 'c1' }],
    ['similarCases', () => ipc.similarCases('张三丰', '大屋村'), 'similar_cases', { name: '张三丰', village: '大屋村' }],
    ['act', () => ipc.act('c1', { action: 'accept' }), 'act', { id: 'c1', input: { action: 'accept' } }],
    ['setField', () => ipc.setField('c1', 'village', '金塘村'), 'set_field', { id: 'c1', field: 'village', value: '金塘村' }],
    ['setDraft', () => ipc.setDraft('c1', 'reply', '经查'), 'set_draft', { id: 'c1', draft: 'reply', text: '经查' }],
    ['resolveConflict', () => ipc.resolveConflict('c1', 'category', 'dispute'), 'resolve_conflict', { id: 'c1', field: 'category', value: 'dispute' }],
    [
      'pickFiles',
      () => ipc.pickFiles('save_statistics', { title: '导出统计表', filter: 'Excel 工作簿', default_name: '统计.xlsx' }),
      'pick_files',
      { purpose: 'save_statistics', text: { title: '导出统计表', filter: 'Excel 工作簿', default_name: '统计.xlsx' } },
    ],
    ['attachFile', () => ipc.attachFile('c1', 'h1'), 'attach_file', { id: 'c1', handle: 'h1' }],
    ['openAttachment', () => ipc.openAttachment('h', 'a.jpg'), 'open_attachment', { hash: 'h', name: 'a.jpg' }],
    ['dueList all', () => ipc.dueList(), 'due_list', {}],
    ['dueList township', () => ipc.dueList('黄桥镇'), 'due_list', { township: '黄桥镇' }],
    ['yearReport', () => ipc.yearReport(2017), 'year_report', { year: 2017 }],
    ['yearReport township', () => ipc.yearReport(2017, '黄桥镇'), 'year_report', { year: 2017, township: '黄桥镇' }],
    ['statistics', () => ipc.statistics('2017-01-01', '2017-12-31'), 'statistics', { from: '2017-01-01', to: '2017-12-31' }],
    ['exportLedger', () => ipc.exportLedger('h2'), 'export_ledger', { handle: 'h2' }],
    ['exportStatistics', () => ipc.exportStatistics('2017-03-01', '2017-05-31', 'h3'), 'export_statistics', { from: '2017-03-01', to: '2017-05-31', handle: 'h3' }],
    ['exportStatistics township', () => ipc.exportStatistics('2017-01-01', '2017-12-31', 'h3', '黄桥镇'), 'export_statistics', { from: '2017-01-01', to: '2017-12-31', handle: 'h3', township: '黄桥镇' }],
    ['importLedger', () => ipc.importLedger('h4', { skipInvalid: true, dryRun: true, joinByNumber: false }), 'import_ledger', { handle: 'h4', skip_invalid: true, dry_run: true, join_by_number: false }],
    ['syncStatus', () => ipc.syncStatus(), 'sync_status', undefined],
    ['syncNow', () => ipc.syncNow(), 'sync_now', undefined],
    ['quarantine', () => ipc.quarantine(), 'quarantine', undefined],
    ['retryQuarantined', () => ipc.retryQuarantined('c1'), 'retry_quarantined', { case_id: 'c1' }],
    ['restartSync', () => ipc.restartSync(), 'restart_sync', undefined],
    ['hubOffices', () => ipc.hubOffices(), 'hub_offices', undefined],
    ['renderDocument', () => ipc.renderDocument('c1', 'acceptance_notice', false), 'render_document', { id: 'c1', kind: 'acceptance_notice', issue: false }],
  ])('%s calls %s with the contract arguments', async (_name, run, command, args) => {
    await run()
    expect(invokeMock).toHaveBeenCalledTimes(1)
    expect(invokeMock).toHaveBeenCalledWith(command, args)
  })

  it('register_case sends the handler only when given', async () => {
    const input = { received: '2024-03-01', channel: 'visit', source: 'direct', sector: 'land', category: 'dispute', request: 'x', petitioners: [] }
    await ipc.registerCase(input)
    expect(invokeMock).toHaveBeenLastCalledWith('register_case', { input })
    await ipc.registerCase(input, '刘洪')
    expect(invokeMock).toHaveBeenLastCalledWith('register_case', { input, handler: '刘洪' })
  })

  it('returns what the command returns', async () => {
    invokeMock.mockResolvedValueOnce({ total: 1, rows: [] })
    await expect(ipc.listCases({})).resolves.toEqual({ total: 1, rows: [] })
  })

  it('passes a CommandError through unchanged, fields included', async () => {
    const error = {
      code: 'invalid_input',
      message: '登记信息有误',
      fields: [{ field: 'petitioners[0].id_number', label: '证件号码', message: '校验位不对' }],
    }
    invokeMock.mockRejectedValueOnce(error)
    await expect(ipc.registerCase({} as never)).rejects.toEqual(error)
  })

  it('turns a bare string rejection into a CommandError', async () => {
    invokeMock.mockRejectedValueOnce('command act not found')
    await expect(ipc.act('c1', { action: 'accept' })).rejects.toEqual({ code: 'ipc', message: 'command act not found' })
  })

  it('turns a thrown Error into a CommandError', async () => {
    invokeMock.mockRejectedValueOnce(new Error('boom'))
    await expect(ipc.syncNow()).rejects.toEqual({ code: 'ipc', message: 'boom' })
  })

  it('onEvent hands the payload, not the event envelope, to the handler', async () => {
    const unlisten = vi.fn()
    vi.mocked(listen).mockImplementationOnce(async (_name, cb) => {
      cb({ event: 'store-changed', id: 1, payload: { case_id: 'c1' } })
      return unlisten
    })
    const seen: unknown[] = []
    const stop = await ipc.onEvent('store-changed', (p) => seen.push(p))
    expect(vi.mocked(listen).mock.calls[0]?.[0]).toBe('store-changed')
    expect(seen).toEqual([{ case_id: 'c1' }])
    expect(stop).toBe(unlisten)
  })
})
