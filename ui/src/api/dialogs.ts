// File dialogs. The shell opens them (`pick_files`) and keeps the chosen paths: the webview only
// gets a handle for later commands and the file's name to show, so a page running hostile script
// cannot read or write a file the user did not choose. The shell starts every dialog in the
// documents folder and sets the extensions of each purpose; the words come from here (i18n).
import * as ipc from './ipc'
import type { Picked, PickPurpose } from './generated/bindings'
import { i18n } from '../i18n'

const t = (key: string) => i18n.global.t(key)

function pick(purpose: PickPurpose, title: string, filter: string, defaultName = ''): Promise<Picked[]> {
  return ipc.pickFiles(purpose, { title: t(title), filter: filter ? t(filter) : '', default_name: defaultName })
}

/** A ledger file (.xlsx or .csv) to import; null when cancelled. */
export async function pickLedgerFile(): Promise<Picked | null> {
  return (await pick('open_ledger', 'dialogs.importTitle', 'dialogs.ledgerFiles'))[0] ?? null
}

/** Where to export the ledger (.xlsx or .csv, by the extension chosen); null when cancelled. */
export async function pickExportFile(defaultName: string): Promise<Picked | null> {
  return (await pick('save_ledger', 'dialogs.exportTitle', 'dialogs.ledgerFiles', defaultName))[0] ?? null
}

/** Where to write the statistics workbook (Excel only: that is what the shell writes). */
export async function pickStatisticsFile(defaultName: string): Promise<Picked | null> {
  return (await pick('save_statistics', 'dialogs.statisticsTitle', 'dialogs.xlsx', defaultName))[0] ?? null
}

/** Files to attach (any type); empty when cancelled. */
export async function pickAttachments(): Promise<Picked[]> {
  return pick('attachments', 'dialogs.attachTitle', '')
}

/** A file of work records (.jsonl) to import; null when cancelled. */
export async function pickWorkFile(): Promise<Picked | null> {
  return (await pick('open_work', 'dialogs.importWorkTitle', 'dialogs.workFiles'))[0] ?? null
}
