import { ElMessage } from 'element-plus'
import { IPC_FAILURE, toCommandError } from '../api/ipc'
import { i18n } from '../i18n'

/** The sentence to show for a failed command: the shell's own (Chinese) message when it has one. */
export function errorMessage(reason: unknown): string {
  const e = toCommandError(reason)
  if (e.code === IPC_FAILURE) return i18n.global.t('errors.ipc', { detail: e.message })
  return e.message || i18n.global.t('errors.unknown')
}

export function showError(reason: unknown): void {
  ElMessage({ type: 'error', message: errorMessage(reason), showClose: true, duration: 8000 })
}

export function showSuccess(message: string): void {
  ElMessage({ type: 'success', message, duration: 3000 })
}
