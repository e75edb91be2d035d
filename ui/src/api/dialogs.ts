// File pickers of @tauri-apps/plugin-dialog, with the filters each use needs.
import { open, save } from '@tauri-apps/plugin-dialog'
import { i18n } from '../i18n'

const t = (key: string) => i18n.global.t(key)

export async function pickLedgerFile(): Promise<string | null> {
  const picked = await open({
    title: t('dialogs.importTitle'),
    multiple: false,
    directory: false,
    filters: [{ name: t('dialogs.ledgerFiles'), extensions: ['xlsx', 'csv'] }],
  })
  return typeof picked === 'string' ? picked : null
}

export async function pickExportPath(defaultName: string): Promise<string | null> {
  return save({
    title: t('dialogs.exportTitle'),
    defaultPath: defaultName,
    filters: [
      { name: t('dialogs.xlsx'), extensions: ['xlsx'] },
      { name: t('dialogs.csv'), extensions: ['csv'] },
    ],
  })
}

export async function pickAttachments(): Promise<string[]> {
  const picked = await open({ title: t('dialogs.attachTitle'), multiple: true, directory: false })
  if (picked === null) return []
  return Array.isArray(picked) ? picked : [picked]
}
