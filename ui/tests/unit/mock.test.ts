// The IPC mock replays what the real office answered (src-tauri/src/fixtures.rs) and what the
// shell answers without a hub (fixtures/shell.json). What those answers say of the office is
// asserted in Rust, of the real office (src-tauri/src/fixtures.rs tests); here: that the mock
// finds them, follows the recorded states, and refuses what nobody recorded.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as ipc from '../../src/api/ipc'
import { installMock, recordedAnswer, resetMock, RECORDED_AT } from '../../src/api/mock'
import recorded from '../../src/api/fixtures/recorded.json'
import shell from '../../src/api/fixtures/shell.json'
import type { CaseRow, CommandError, Page } from '../../src/api/generated/bindings'

installMock()
beforeEach(() => resetMock())

type Recorded = { calls: { command: string }[] }[]
const recordedStates = recorded.states as unknown as Recorded
const shellStates = shell.states as unknown as Recorded
const commandsOf = (states: Recorded) => new Set(states.flatMap((s) => s.calls.map((c) => c.command)))

describe('the IPC mock', () => {
  it('answers every command of commands.md from a recording, or says why it cannot', () => {
    const text = readFileSync(join(process.cwd(), 'src/api/commands.md'), 'utf8')
    const commands = [...text.matchAll(/^\| ([a-z_]+) \|/gm)].map((m) => m[1] ?? '').filter((c) => c !== 'command')
    const answered = new Set([...commandsOf(recordedStates), ...commandsOf(shellStates)])
    // Native: the system's file dialog and file viewer (mock.ts).
    const native = ['pick_files', 'open_attachment']
    // Not yet recorded: none of the page's scenarios calls them (a call is refused, `ipc`).
    const unrecorded = ['add_submission', 'set_field', 'set_draft', 'update_staff', 'retry_quarantined', 'import_work']
    for (const command of commands) {
      expect(answered.has(command) || native.includes(command) || unrecorded.includes(command), command).toBe(true)
    }
    for (const c of [...recordedStates, ...shellStates].flatMap((s) => s.calls)) {
      expect(commands, c.command).toContain(c.command)
    }
  })

  it('was recorded on one fixed day', () => {
    expect(RECORDED_AT.today).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(new Date(RECORDED_AT.now).toISOString().slice(0, 10)).toBe(RECORDED_AT.today)
  })

  it('serves the demo bureau with the real vocabularies', async () => {
    const state = await ipc.appState()
    expect(state.ready && state.demo).toBe(true)
    expect(state.hub_warning).toBeNull()
    const vocab = await ipc.vocabularies()
    expect(vocab.channel.map((v) => v.label)).toEqual(['来信', '来访', '来电', '网上信访', '传真', '电子邮件'])
    expect(vocab.category.find((v) => v.code === 'illegal_occupation')?.label).toBe('违法占地建设')
  })

  it('finds an answer whatever the order of the arguments, and null as absent', async () => {
    const a = await ipc.listCases({ limit: 20, offset: 0 })
    const b = await ipc.listCases({ offset: 0, limit: 20, text: undefined })
    expect(b).toEqual(a)
    expect(a.rows).toHaveLength(20)
  })

  it('refuses what nobody recorded, naming the call', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    const error = (await ipc.listCases({ text: '没有录下的查询' }).catch((e: unknown) => e)) as CommandError
    expect(error.code).toBe('ipc')
    expect(error.message).toContain('list_cases')
    expect(spy).toHaveBeenCalled()
    spy.mockRestore()
  })

  it('replays the recorded refusals', async () => {
    const demo = (recorded.states as unknown as { calls: { command: string; args: unknown; error?: unknown }[] }[])[0]
    const bad = demo?.calls.find((c) => c.command === 'register_case' && c.error !== undefined)
    expect(bad).toBeDefined()
    const args = bad?.args as { input: Parameters<typeof ipc.registerCase>[0]; handler: string }
    const error = (await ipc.registerCase(args.input, args.handler).catch((e: unknown) => e)) as CommandError
    expect(error.code).toBe('invalid_input')
    expect(error.fields?.map((f) => f.field)).toEqual(['petitioners[0].id_number', 'channel'])
  })

  it('moves to the state a change leads to: accepting the newest registered case', async () => {
    const page = recordedAnswer<Page>('list_cases', { query: { limit: 20, offset: 0 } })
    const row = page.rows.find((r: CaseRow) => r.status === 'registered')
    expect(row).toBeDefined()
    const id = row?.id ?? ''
    expect((await ipc.caseDetail(id)).status).toBe('registered')
    await expect(ipc.act(id, { action: 'accept', text: '已当场告知信访人受理', track: 'petition', handler: '李娟' })).resolves.toBe('accepted')
    expect((await ipc.caseDetail(id)).status).toBe('accepted')
    resetMock()
    expect((await ipc.caseDetail(id)).status).toBe('registered')
  })

  it('sets up, shows the recovery passphrase once, and unlocks with the 台账口令 only', async () => {
    resetMock('setup')
    expect(await ipc.appState()).toMatchObject({ ready: false, keyring: false })
    const state = await ipc.setupLocal({ code: 'hq', name: '黄桥镇国土所', role: 'township', townships: ['黄桥镇'], staff: ['刘洪'], passphrase: '黄桥镇国土所台账口令' })
    expect(state).toMatchObject({ ready: true, recovery: 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ23' })
    expect((await ipc.recoveryShown()).recovery).toBeNull()
    expect((await ipc.appState()).recovery).toBeNull()

    resetMock('setup&keyring')
    expect((await ipc.appState()).keyring).toBe(true)

    resetMock('locked')
    expect(await ipc.appState()).toMatchObject({ ready: false, locked: true, office: null })
    const wrong = (await ipc.unlock('不是这个口令').catch((e: unknown) => e)) as CommandError
    expect(wrong.code).toBe('storage')
    expect(wrong.message).toContain('口令不对')
    expect((await ipc.appState()).locked).toBe(true)
    const open = await ipc.unlock('测试台账口令-2026')
    expect(open).toMatchObject({ ready: true, locked: false, demo: true })
  })
})
