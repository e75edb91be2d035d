// File pickers of @tauri-apps/plugin-dialog, with the filters each use needs. Every dialog starts
// in the user's documents folder (the home folder when there is none): left to itself, GTK opens
// in the directory the app was started from.
import { open, save } from '@tauri-apps/plugin-dialog'
import { documentDir, homeDir, join } from '@tauri-apps/api/path'
import { i18n } from '../i18n'

const t = (key: string) => i18n.global.t(key)

/** The documents folder, else the home folder; undefined when the shell can give neither. */
export async function startDirectory(): Promise<string | undefined> {
  for (const resolve of [documentDir, homeDir]) {
    try {
      const dir = await resolve()
      if (dir) return dir
    } catch {
      // No such folder on this system (an unset XDG_DOCUMENTS_DIR): try the next.
    }
  }
  return undefined
}

/** `name` in the start folder, for a save dialog's suggested file. */
async function suggestedPath(name: string): Promise<string> {
  const dir = await startDirectory()
  if (!dir) return name
  try {
    return await join(dir, name)
  } catch {
    return name
  }
}

export async function pickLedgerFile(): Promise<string | null> {
  const picked = await open({
    title: t('dialogs.importTitle'),
    defaultPath: await startDirectory(),
    multiple: false,
    directory: false,
    filters: [{ name: t('dialogs.ledgerFiles'), extensions: ['xlsx', 'csv'] }],
  })
  return typeof picked === 'string' ? picked : null
}

export async function pickExportPath(defaultName: string): Promise<string | null> {
  return save({
    title: t('dialogs.exportTitle'),
    defaultPath: await suggestedPath(defaultName),
    filters: [
      { name: t('dialogs.xlsx'), extensions: ['xlsx'] },
      { name: t('dialogs.csv'), extensions: ['csv'] },
    ],
  })
}

/** Where to write the statistics workbook (Excel only: that is what the shell writes). */
export async function pickStatisticsPath(defaultName: string): Promise<string | null> {
  return save({
    title: t('dialogs.statisticsTitle'),
    defaultPath: await suggestedPath(defaultName),
    filters: [{ name: t('dialogs.xlsx'), extensions: ['xlsx'] }],
  })
}

export async function pickAttachments(): Promise<string[]> {
  const picked = await open({
    title: t('dialogs.attachTitle'),
    defaultPath: await startDirectory(),
    multiple: true,
    directory: false,
  })
  if (picked === null) return []
  return Array.isArray(picked) ? picked : [picked]
}
