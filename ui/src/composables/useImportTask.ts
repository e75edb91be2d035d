import { reactive } from 'vue'
import * as ipc from '../api/ipc'
import type { CommandError, ImportReport } from '../api/types'
import { subscribe } from './useEvents'

interface ImportTask {
  running: boolean
  path: string
  done: number
  total: number
  report: ImportReport | null
  /** The file had invalid rows and nothing was imported. */
  rejected: CommandError | null
  error: CommandError | null
  dialogOpen: boolean
}

/**
 * The import runs outside any screen: the user may leave the ledger while it works, and the
 * report waits for them.
 */
export const importTask = reactive<ImportTask>({
  running: false,
  path: '',
  done: 0,
  total: 0,
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

export async function runImport(path: string, skipInvalid: boolean): Promise<void> {
  if (importTask.running) return
  Object.assign(importTask, {
    running: true,
    path,
    done: 0,
    total: 0,
    report: null,
    rejected: null,
    error: null,
  })
  try {
    importTask.report = await ipc.importLedger(path, skipInvalid)
  } catch (e) {
    const error = ipc.toCommandError(e)
    if (error.code === 'import_rejected') importTask.rejected = error
    else importTask.error = error
  } finally {
    importTask.running = false
    importTask.dialogOpen = true
  }
}
