// The only module that talks to the Tauri shell: one typed function per command of commands.md,
// and `onEvent` for the events of uiTypes.ts. The types are generated from the Rust ones
// (generated/bindings.ts). One argument casing: every command reads its arguments in snake_case
// (`#[tauri::command(rename_all = "snake_case")]`, checked by a test in src-tauri), the key
// names of commands.md, so argument objects use them verbatim and nothing is sent twice.
import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import type { ActionInput, AppState, CaseQuery, CaseRow, CaseView, CommandError, CountyRepeat, DemoRemoved, DialogText, DueList, ImportReport, NewCase, NewPetitioner, OfficeConfig, Page, Picked, PickPurpose, QuarantinedChange, RecoveryReport, RulesView, Statistics, SyncReport, SyncStatus, TownshipChoice, Vocabularies, DutyOutlook, WorkChange, WorkImportReport, WorkInput, WorkTotals, WorkView, ScreeningView, YearReport } from './generated/bindings'
import type { Events, OfficeHealth } from './uiTypes'

/** Code given to failures that did not come from a command (the shell is missing, a panic). */
export const IPC_FAILURE = 'ipc'

export function isCommandError(value: unknown): value is CommandError {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.code === 'string' && typeof v.message === 'string'
}

/** Every rejection becomes a CommandError, so callers handle one shape. */
export function toCommandError(reason: unknown): CommandError {
  if (isCommandError(reason)) return reason
  if (typeof reason === 'string') return { code: IPC_FAILURE, message: reason }
  if (reason instanceof Error) return { code: IPC_FAILURE, message: reason.message }
  return { code: IPC_FAILURE, message: String(reason) }
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args)
  } catch (reason) {
    throw toCommandError(reason)
  }
}

export type SubmissionInput = Omit<
  NewCase,
  'purpose' | 'sector' | 'category' | 'township' | 'subject' | 'request' | 'village'
> & { petitioners: NewPetitioner[]; representatives?: string[] }

export type DraftKind = 'reply' | 'investigation'

export interface LocalSetup {
  code: string
  name: string
  role: 'township' | 'bureau'
  townships: string[]
  staff: string[]
  /** The 台账口令 protecting the store's key when the system has no keyring; else null. */
  passphrase?: string | null
}

/** A passphrase as typed, or null when none was (the shell then uses the system keyring). */
const passphraseArg = (passphrase: string | null | undefined) =>
  passphrase && passphrase.trim() ? passphrase : null

export const appState = () => call<AppState>('app_state')
export const vocabularies = () => call<Vocabularies>('vocabularies')
/**
 * Enrolls this computer with the county hub. `fingerprint` is the county CA's SHA-256 fingerprint
 * the hub prints beside the token (`AB:CD:…`); the shell checks it. Empty or absent: null.
 * `passphrase`: the 台账口令 protecting the new store when there is no keyring (else null).
 */
export const enroll = (
  hub: string,
  token: string,
  staff: string[],
  fingerprint?: string,
  passphrase?: string | null,
) =>
  call<AppState>('enroll', {
    hub,
    token,
    staff,
    fingerprint: fingerprint?.trim() || null,
    passphrase: passphraseArg(passphrase),
  })
export const setupLocal = (setup: LocalSetup) =>
  call<AppState>('setup_local', {
    code: setup.code,
    name: setup.name,
    role: setup.role,
    townships: setup.townships,
    staff: setup.staff,
    passphrase: passphraseArg(setup.passphrase),
  })
/**
 * Opens the store waiting for its passphrase (`AppState.locked`): this computer's 台账口令 or the
 * recovery passphrase county IT keeps. A wrong one is refused with the shell's message.
 */
export const unlock = (passphrase: string) => call<AppState>('unlock', { passphrase })
/** The recovery passphrase was shown and written down: the shell forgets it (`recovery` null). */
export const recoveryShown = () => call<AppState>('recovery_shown')
export const updateStaff = (staff: string[]) => call<OfficeConfig>('update_staff', { staff })
/** 全县规则 as this office holds them. */
export const rulesView = () => call<RulesView>('rules_view')
/**
 * Records a change of the county's rules (the bureau only): `item` is a code of `RulesView.items`
 * or `holidays.<year>`, `from` the first day it applies (YYYY-MM-DD; the shell's default: today).
 */
export const setRule = (item: string, value: string, from?: string, note?: string, handler?: string) =>
  call<RulesView>('set_rule', { item, value, from: from ?? null, note: note ?? null, handler: handler ?? null })
export const townshipChoices = () => call<TownshipChoice[]>('township_choices')
export const removeDemo = (handler?: string) => call<DemoRemoved>('remove_demo', { handler: handler ?? null })

export const listCases = (query: CaseQuery) => call<Page>('list_cases', { query })
export const caseDetail = (id: string) => call<CaseView>('case_detail', { id })
export const registerCase = (input: NewCase, handler?: string) =>
  call<string>('register_case', handler ? { input, handler } : { input })
export const similarCases = (name: string, village: string) =>
  call<CaseRow[]>('similar_cases', { name, village })
export const countyRepeats = (idNumbers: string[]) =>
  call<CountyRepeat[]>('county_repeats', { id_numbers: idNumbers })
export const act = (id: string, input: ActionInput) => call<string>('act', { id, input })
export const addSubmission = (id: string, input: SubmissionInput) =>
  call<string>('add_submission', { id, input })
export const setField = (id: string, field: string, value: string) =>
  call<null>('set_field', { id, field, value })
export const setDraft = (id: string, draft: DraftKind, text: string) =>
  call<null>('set_draft', { id, draft, text })
export const resolveConflict = (id: string, field: string, value: string) =>
  call<null>('resolve_conflict', { id, field, value })
/**
 * Opens a file dialog in the shell (which keeps the chosen paths): handles and names, empty when
 * the user cancelled; at most one for every purpose but `attachments`.
 */
export const pickFiles = (purpose: PickPurpose, text: DialogText) =>
  call<Picked[]>('pick_files', { purpose, text })
/** Attaches the file behind `handle` (from `pickFiles`). */
export const attachFile = (id: string, handle: string) => call<string>('attach_file', { id, handle })
export const openAttachment = (hash: string, name: string) =>
  call<null>('open_attachment', { hash, name })

export type WorkKindCode = 'consult' | 'outreach' | 'screening' | 'duty' | 'leader' | 'reception'
export const workRecords = (kind: WorkKindCode, year: number | null) =>
  call<WorkView[]>('work_records', { kind, year })
export const workTotals = (year: number) => call<WorkTotals>('work_totals', { year })
export const screeningMonth = (month: string) => call<ScreeningView>('screening_month', { month })
export const addWork = (input: WorkInput) => call<WorkView>('add_work', { input })
export const dutyOutlook = (days: number, office?: string) =>
  call<DutyOutlook>('duty_outlook', { office: office ?? null, days })
export const changeWork = (id: string, change: WorkChange, handler?: string) =>
  call<WorkView>('change_work', { id, change, handler: handler ?? null })

export const dueList = (township?: string) =>
  call<DueList>('due_list', township ? { township } : {})
export const yearReport = (year: number, township?: string) =>
  call<YearReport>('year_report', township ? { year, township } : { year })
export const statistics = (from: string, to: string, township?: string) =>
  call<Statistics>('statistics', township ? { from, to, township } : { from, to })

/** Writes the ledger to the file behind `handle` (.xlsx or .csv by its extension). */
export const exportLedger = (handle: string) => call<number>('export_ledger', { handle })
/** The statistics workbook of `from`..`to` (the tables the 统计 screen shows) as .xlsx. */
export const exportStatistics = (from: string, to: string, handle: string, township?: string) =>
  call<null>('export_statistics', township ? { from, to, handle, township } : { from, to, handle })
export interface ImportChoice {
  skipInvalid: boolean
  /** Report what the import would do and write nothing. */
  dryRun: boolean
  /** The clerk confirmed that rows matching a case here only by 案件编号 are that case's. */
  joinByNumber: boolean
}

/** Imports the file behind `handle`; the same handle serves the dry run and the import. */
export const importWork = (handle: string, dryRun: boolean) =>
  call<WorkImportReport>('import_work', { handle, dry_run: dryRun })
export const importLedger = (handle: string, c: ImportChoice) =>
  call<ImportReport>('import_ledger', {
    handle,
    skip_invalid: c.skipInvalid,
    dry_run: c.dryRun,
    join_by_number: c.joinByNumber,
  })

export const syncStatus = () => call<SyncStatus>('sync_status')
export const recoverRefused = () => call<RecoveryReport>('recover_refused')
/** Forgets a damaged sync position and syncs from the beginning (nothing local is lost). */
export const restartSync = () => call<SyncReport>('restart_sync')
export const syncNow = () => call<SyncReport>('sync_now')
export const quarantine = () => call<QuarantinedChange[]>('quarantine')
export const retryQuarantined = (caseId: string) =>
  call<number>('retry_quarantined', { case_id: caseId })
/** What sync and recovery could not do, in words, until the clerk has looked at it. */
export const syncProblems = () => call<string[]>('sync_problems')
export const dismissSyncProblems = (seen: string[]) => call<number>('dismiss_sync_problems', { seen })
export const hubOffices = () => call<OfficeHealth[]>('hub_offices')
export const renderDocument = (id: string, kind: string, issue: boolean) =>
  call<string>('render_document', { id, kind, issue })

export type EventName = keyof Events

export function onEvent<K extends EventName>(
  name: K,
  handler: (payload: Events[K]) => void,
): Promise<UnlistenFn> {
  return listen<Events[K]>(name, (event) => handler(event.payload))
}
