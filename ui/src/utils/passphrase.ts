import type { FieldError } from '../api/generated/bindings'

type Translate = (key: string, named?: Record<string, unknown>) => string

/** The shortest 台账口令 the shell accepts (it counts characters of the trimmed passphrase). */
export const PASSPHRASE_MIN = 8

/** The form keys of the passphrase and its confirmation (the shell's field is `passphrase`). */
export const PASSPHRASE_FIELDS = ['passphrase', 'passphrase_confirm'] as const

/**
 * The set-up forms' check of a new 台账口令, as the shell checks it (at least 8 characters once
 * trimmed), and that the confirmation repeats it. Empty list: fine.
 */
export function checkNewPassphrase(passphrase: string, confirm: string, t: Translate): FieldError[] {
  const list: FieldError[] = []
  const label = t('setup.passphrase')
  if (!passphrase.trim()) {
    list.push({ field: 'passphrase', label, message: t('setup.errors.passphrase') })
  } else if ([...passphrase.trim()].length < PASSPHRASE_MIN) {
    list.push({ field: 'passphrase', label, message: t('setup.errors.passphraseShort', { n: PASSPHRASE_MIN }) })
  }
  if (!confirm) {
    list.push({ field: 'passphrase_confirm', label: t('setup.passphraseConfirm'), message: t('setup.errors.passphraseConfirm') })
  } else if (confirm !== passphrase) {
    list.push({ field: 'passphrase_confirm', label: t('setup.passphraseConfirm'), message: t('setup.errors.passphraseMismatch') })
  }
  return list
}
