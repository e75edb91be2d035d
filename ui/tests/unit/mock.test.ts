import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import * as ipc from '../../src/api/ipc'
import { installMock, resetMock } from '../../src/api/mock'
import { MOCK_PASSPHRASE, MOCK_RECOVERY } from '../../src/api/mockData'
import type { CommandError, NewCase } from '../../src/api/generated/bindings'

beforeAll(() => {
  installMock()
  resetMock()
})

const newCase = (over: Partial<NewCase> = {}): NewCase => ({
  received: '2024-03-01',
  channel: 'visit',
  source: 'direct',
  sector: 'land',
  category: 'illegal_occupation',
  purpose: 'report',
  township: '黄桥镇',
  village: '大屋村',
  request: '邻居在承包地上违法建房，请求依法查处',
  petitioners: [{ name: '张三丰', id_number: '11010519491231002X', phone: '13812345678' }],
  ...over,
})

describe('the IPC mock', () => {
  it('answers every command of commands.md', () => {
    const source = readFileSync(join(process.cwd(), 'src/api/mock.ts'), 'utf8')
    const text = readFileSync(join(process.cwd(), 'src/api/commands.md'), 'utf8')
    const commands = [...text.matchAll(/^\| ([a-z_]+) \|/gm)].map((m) => m[1]).filter((c) => c !== 'command')
    for (const command of commands) expect(source, command).toContain(`case '${command}':`)
  })

  it('serves a demo bureau with the real vocabularies', async () => {
    const state = await ipc.appState()
    expect(state.ready && state.demo).toBe(true)
    expect(state.hub_warning).toBeNull()
    const vocab = await ipc.vocabularies()
    expect(vocab.channel.map((v) => v.label)).toEqual(['来信', '来访', '来电', '网上信访', '传真', '电子邮件'])
    expect(vocab.category.find((v) => v.code === 'illegal_occupation')?.label).toBe('违法占地建设')
  })

  it('has no keyring, is not locked and has no recovery passphrase to show by default', async () => {
    const state = await ipc.appState()
    expect(state).toMatchObject({ keyring: false, locked: false, recovery: null })
  })

  it('asks for a 台账口令 at set-up without a keyring, and shows the recovery passphrase once', async () => {
    resetMock('setup')
    let error = (await ipc.setupLocal({ code: 'hq', name: '黄桥镇国土所', role: 'township', townships: ['黄桥镇'], staff: ['刘洪'] }).catch((e: unknown) => e)) as CommandError
    expect(error.fields?.map((f) => [f.field, f.label])).toEqual([['passphrase', '台账口令']])
    error = (await ipc.setupLocal({ code: 'hq', name: '黄桥镇国土所', role: 'township', townships: ['黄桥镇'], staff: ['刘洪'], passphrase: '1234567' }).catch((e: unknown) => e)) as CommandError
    expect(error.fields?.[0]).toMatchObject({ field: 'passphrase', message: '口令至少 8 个字符' })
    const state = await ipc.setupLocal({ code: 'hq', name: '黄桥镇国土所', role: 'township', townships: ['黄桥镇'], staff: ['刘洪'], passphrase: '测试台账口令-2026' })
    expect(state.ready).toBe(true)
    expect(state.recovery).toBe(MOCK_RECOVERY)
    expect((await ipc.appState()).recovery).toBe(MOCK_RECOVERY)
    expect((await ipc.recoveryShown()).recovery).toBeNull()
    expect((await ipc.appState()).recovery).toBeNull()

    resetMock('setup')
    const enrolled = await ipc.enroll('https://county-hub:8750', 'T0K3N', ['李娟'], undefined, '测试台账口令-2026')
    expect(enrolled).toMatchObject({ ready: true, recovery: MOCK_RECOVERY, hub: 'https://county-hub:8750' })
    await ipc.recoveryShown()
  })

  it('asks for no passphrase where there is a keyring', async () => {
    resetMock('setup&keyring')
    const state = await ipc.setupLocal({ code: 'hq', name: '黄桥镇国土所', role: 'bureau', townships: [], staff: ['刘洪'] })
    expect(state).toMatchObject({ ready: true, keyring: true, recovery: MOCK_RECOVERY })
  })

  it('opens a locked store with its 台账口令 only', async () => {
    resetMock('locked')
    const locked = await ipc.appState()
    expect(locked).toMatchObject({ ready: false, locked: true, office: null })
    const wrong = (await ipc.unlock('不是这个口令123').catch((e: unknown) => e)) as CommandError
    expect(wrong.code).toBe('storage')
    expect(wrong.message).toContain('口令不对')
    expect((await ipc.appState()).locked).toBe(true)
    await expect(ipc.unlock('  ')).rejects.toMatchObject({ code: 'invalid_input' })
    const open = await ipc.unlock(MOCK_PASSPHRASE)
    expect(open).toMatchObject({ ready: true, locked: false })
    expect(open.office?.name).toBeTruthy()
    resetMock()
  })

  it('pages and searches the ledger, one character is enough', async () => {
    const page = await ipc.listCases({ limit: 10, offset: 0 })
    expect(page.rows).toHaveLength(10)
    expect(page.total).toBeGreaterThan(50)
    const found = await ipc.listCases({ text: '张' })
    expect(found.total).toBeGreaterThan(0)
    expect(found.total).toBeLessThan(page.total)
  })

  it('reports field errors the way the shell does', async () => {
    const bad = newCase({ petitioners: [{ name: '张三丰', id_number: '110105194912310021' }], channel: '' })
    const error = (await ipc.registerCase(bad).catch((e: unknown) => e)) as CommandError
    expect(error.code).toBe('invalid_input')
    expect(error.fields?.map((f) => f.field)).toEqual(['channel', 'petitioners[0].id_number'])
  })

  it('registers, acts and derives the status', async () => {
    const id = await ipc.registerCase(newCase(), '刘洪')
    let view = await ipc.caseDetail(id)
    expect(view.status).toBe('registered')
    expect(view.allowed_actions).toContain('accept')
    await expect(ipc.act(id, { action: 'accept' })).resolves.toBe('accepted')
    const error = (await ipc.act(id, { action: 'assign' }).catch((e: unknown) => e)) as CommandError
    expect(error.fields?.[0]?.field).toBe('to')
    await expect(ipc.act(id, { action: 'assign', target: '高沙镇' })).resolves.toBe('assigned')
    view = await ipc.caseDetail(id)
    expect(view.case.jurisdiction).toBe('高沙镇')
    expect(view.case.events.map((e) => e.action)).toEqual(['register', 'accept', 'assign'])
  })

  it('produces a year report whose tables add up to the total', async () => {
    const year = new Date().getFullYear()
    const report = await ipc.yearReport(year)
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0)
    expect(report.year.total).toBeGreaterThan(0)
    expect(sum(report.year.by_source)).toBe(report.year.total)
    expect(sum(report.year.by_category)).toBe(report.year.total)
    expect(report.months.reduce((s, m) => s + m.total, 0)).toBe(report.year.total)
    expect(Object.keys(report.year.rates)).toHaveLength(8)
  })

  it('takes files by the handle its dialogs give, never by path', async () => {
    const id = await ipc.registerCase(newCase(), '刘洪')
    const files = await ipc.pickFiles('attachments', { title: '选择附件', filter: '', default_name: '' })
    expect(files).toEqual([{ handle: expect.any(String), name: '现场照片2.jpg' }])
    await ipc.attachFile(id, files[0]?.handle ?? '')
    expect((await ipc.caseDetail(id)).case.attachments.map((a) => a.name)).toEqual(['现场照片2.jpg'])
    await expect(ipc.attachFile(id, '/etc/passwd')).rejects.toMatchObject({ code: 'invalid_input' })

    const [ledger] = await ipc.pickFiles('open_ledger', { title: '选择要导入的台账文件', filter: '台账文件', default_name: '' })
    const handle = ledger?.handle ?? ''
    const plan = await ipc.importLedger(handle, { skipInvalid: true, dryRun: true, joinByNumber: false })
    expect(plan.dry_run).toBe(true)
    const done = await ipc.importLedger(handle, { skipInvalid: true, dryRun: false, joinByNumber: false })
    expect(done.dry_run).toBe(false)

    const [saved] = await ipc.pickFiles('save_ledger', { title: '导出台账', filter: '台账文件', default_name: '信访台账-2026-11-30' })
    expect(saved?.name).toBe('信访台账-2026-11-30.xlsx')
    await expect(ipc.exportLedger(saved?.handle ?? '')).resolves.toBeGreaterThan(0)
  })

  it('keeps the county rules: the bureau records a change, an empty reviewing body is refused', async () => {
    const before = await ipc.rulesView()
    expect(before.editable && before.received).toBe(true)
    expect(before.policies.filter((p) => p.in_force).map((p) => p.name)).toEqual(['信访工作条例（2022）'])
    const error = (await ipc.setRule('county.review_body', ' ').catch((e: unknown) => e)) as CommandError
    expect(error.code).toBe('invalid_input')
    expect(error.message).toContain('复查机关名称应为 1 至 60 个字')
    const after = await ipc.setRule('county.review_body', '洞口县人民政府', undefined, '洞政函〔2026〕1号')
    expect(after.county.review_body).toBe('洞口县人民政府')
    expect(after.entries[0]).toMatchObject({ item: 'county.review_body', label: '县局设置·复查机关', note: '洞政函〔2026〕1号', handler: '李娟' })
    expect((await ipc.rulesView()).entries).toHaveLength(1)
  })
})
