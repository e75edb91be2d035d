// A stand-in for the Tauri shell, for running the UI in a browser (`npm run dev:mock`) and for the
// page test. Loaded only when VITE_MOCK_IPC=1. It computes nothing: every answer is looked up by
// state, command and arguments in what the real office answered (fixtures/recorded.json, written
// by src-tauri/src/fixtures.rs) or, for what needs a hub, a keyring or the machine
// (enrollment, unlocking, sync), in fixtures/shell.json. A call nobody recorded is refused with
// an `ipc` error naming it, and logged: record it in src-tauri/src/fixtures.rs.
import { mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import type { CommandError, Picked } from './generated/bindings'
import recorded from './fixtures/recorded.json'
import shell from './fixtures/shell.json'

type Args = Record<string, unknown>

interface Call {
  command: string
  args: Args
  ok?: unknown
  error?: CommandError
  /** The state the call leads to. */
  then?: string
  /** Answered with what `ok_from` (a command without arguments) answers in the state it leads to. */
  ok_from?: string
  /** Events the shell emitted for it, in order. */
  events?: { event: string; payload: unknown }[]
}

interface State {
  name: string
  parent: string | null
  calls: Call[]
}

/** The day and time the recordings were made (the page test sets the browser's clock to it). */
export const RECORDED_AT: { today: string; now: number } = { today: recorded.today, now: recorded.now }

/** Arguments as a key: keys sorted, absent and null alike (the shell reads them alike). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const o = v as Record<string, unknown>
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .filter((k) => o[k] !== null && o[k] !== undefined)
        .map((k) => [k, o[k]]),
    )
  })
}

const states = new Map<string, { parent: string | null; calls: Map<string, Call> }>()
for (const state of [...(recorded.states as State[]), ...(shell.states as State[])]) {
  const calls = new Map<string, Call>()
  for (const call of state.calls) calls.set(`${call.command} ${canonical(call.args ?? {})}`, call)
  states.set(state.name, { parent: state.parent, calls })
}

/** The recorded call for `command` with `args` in `state`, or in the states before it. */
function lookup(state: string, command: string, args: Args): Call | undefined {
  const key = `${command} ${canonical(args)}`
  for (let name: string | null = state; name !== null; ) {
    const s = states.get(name)
    if (!s) break
    const call = s.calls.get(key)
    if (call) return call
    name = s.parent
  }
  // Sync's answers hold in every state.
  return states.get('any')?.calls.get(key)
}

/**
 * The answer recorded for `command` with `args` in `state` (default: the demo bureau), for
 * unit tests that want a real answer as data.
 */
export function recordedAnswer<T>(command: string, args: Args = {}, state = 'demo'): T {
  const call = lookup(state, command, args)
  if (!call || call.error) throw new Error(`no recorded answer of ${command} ${canonical(args)} in ${state}`)
  return structuredClone(call.ok) as T
}

// `?setup` in the page's address starts the mock on a computer not yet set up (`&keyring`: one
// with a system keyring); `?locked` on one whose store waits for its 台账口令; `?plain` on one
// enrolled over plain http://. Otherwise: the demo bureau.
function startState(flags: URLSearchParams): string {
  if (flags.has('setup')) return flags.has('keyring') ? 'setup-keyring' : 'setup'
  if (flags.has('locked')) return 'locked'
  if (flags.has('plain')) return 'plain'
  return 'demo'
}

const query = typeof location !== 'undefined' ? new URLSearchParams(location.search) : new URLSearchParams()
let state = startState(query)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `pick_files` opens the system's file dialog, which no recording holds: the clerk picks the
 * file the recordings were made with (each purpose has its handle in src-tauri/src/fixtures.rs),
 * or accepts the suggested name when saving.
 */
function pickFiles(args: Args): Picked[] {
  const text = args.text as { default_name?: unknown } | undefined
  const suggested = typeof text?.default_name === 'string' ? text.default_name.trim() : ''
  const purpose = String(args.purpose)
  const handle = `pick-${purpose}`
  switch (purpose) {
    case 'open_ledger':
      return [{ handle, name: '2024年信访台账（有错误行）.csv' }]
    case 'attachments':
      return [{ handle, name: '现场照片2.jpg' }]
    case 'save_ledger':
    case 'save_statistics':
      return [{ handle, name: suggested || `${purpose}.xlsx` }]
    default:
      return []
  }
}

async function handle(command: string, args: Args): Promise<unknown> {
  await sleep(30)
  if (command === 'pick_files') return pickFiles(args)
  // Opens the file in the system's viewer: nothing to answer.
  if (command === 'open_attachment') return null
  const call = lookup(state, command, args)
  if (!call) {
    const message = `mock: no recording of ${command} ${canonical(args)} in state ${state}`
    console.error(message)
    const error: CommandError = { code: 'ipc', message }
    throw error
  }
  // Events the shell emitted while the command ran (progress, then the change).
  for (const e of call.events ?? []) {
    if (e.event === 'progress') await sleep(150)
    await emit(e.event, e.payload)
  }
  if (call.then) state = call.then
  if (call.error) throw structuredClone(call.error)
  if (call.ok_from) return structuredClone(lookup(state, call.ok_from, {})?.ok ?? null)
  return structuredClone(call.ok ?? null)
}

export function installMock(): void {
  // The arguments go through JSON as they do to the real shell.
  mockIPC((cmd, payload) => handle(cmd, JSON.parse(JSON.stringify(payload ?? {})) as Args), { shouldMockEvents: true })
}

/** For unit tests: back to the start; `flags` as the page's address would give them (`locked`, `setup`, …). */
export function resetMock(flags = ''): void {
  state = startState(new URLSearchParams(flags))
}
