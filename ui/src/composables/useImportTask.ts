import { reactive } from 'vue'
import * as ipc from '../api/ipc'
import type { CommandError, ImportReport, Picked } from '../api/generated/bindings'
import { subscribe } from './useEvents'

interface ImportTask {
  running: boolean
  /** The file chosen in the dialog: its handle for the shell, its name to show. */
  file: Picked | null
  done: number
  total: number
  /** Import the good rows only (the clerk chose to skip the bad ones). */
  skipInvalid: boolean
  /** Rows matching a case here only by 案件编号 join it (the clerk confirmed). */
  joinByNumber: boolean
  /** What the import would do (a dry run), or what it did. */
  report: ImportReport | null
  /** The file had invalid rows and nothing was imported. */
  rejected: CommandError | null
  error: CommandError | null
  dialogOpen: boolean
}

/**
 * The import runs outside any screen: the user may leave the ledger while it works, and the
 * report waits for them. Every import is tried first (a dry run, nothing written); the clerk
 * reads what it would do and confirms before anything is applied.
 */
export const importTask = reactive<ImportTask>({
  running: false,
  file: null,
  done: 0,
  total: 0,
  skipInvalid: false,
  joinByNumber: false,
  report: null,
  rejected: null,
  error: null,
  dialogOpen: false,
})

subscribe('progress', (p) => {
  if (p.task !== 'import' || !importTask.running) return
  importTask.done = p.done
  importTask.total = p.total
})

export function importPercent(): number {
  if (importTask.total <= 0) return 0
  return Math.min(100, Math.round((importTask.done / importTask.total) * 100))
}

async function run(dryRun: boolean): Promise<void> {
  if (importTask.running || !importTask.file) return
  const { handle } = importTask.file
  Object.assign(importTask, { running: true, done: 0, total: 0, report: null, rejected: null, error: null })
  try {
    importTask.report = await ipc.importLedger(handle, {
      skipInvalid: importTask.skipInvalid,
      dryRun,
      joinByNumber: importTask.joinByNumber,
    })
  } catch (e) {
    const error = ipc.toCommandError(e)
    if (error.code === 'import_rejected') importTask.rejected = error
    else importTask.error = error
  } finally {
    importTask.running = false
    importTask.dialogOpen = true
  }
}

/** Tries the file and shows what importing it would do; nothing is written yet. */
export async function runImport(file: Picked, skipInvalid: boolean): Promise<void> {
  if (importTask.running) return
  Object.assign(importTask, { file, skipInvalid, joinByNumber: false })
  await run(true)
}

/** Tries the file again with the clerk's changed choice (whether number matches join). */
export async function replanImport(): Promise<void> {
  await run(true)
}

/** Applies the import the clerk has read and confirmed. */
export async function applyImport(): Promise<void> {
  await run(false)
}
