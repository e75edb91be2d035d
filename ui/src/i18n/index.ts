import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN.json'
import en from './en.json'

export type Locale = 'zh-CN' | 'en'

const STORAGE_KEY = 'ledger.locale'

function storedLocale(): Locale {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

export const i18n = createI18n({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
  missingWarn: false,
  fallbackWarn: false,
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    // Private mode or a full quota: the choice then lasts for this session only.
  }
  document.documentElement.lang = locale
  document.title = i18n.global.t('app.title')
}

/** The raw message tree of a locale (English vocabulary names are looked up by code in it). */
export function rawMessages(locale: Locale): Record<string, unknown> {
  return locale === 'en' ? en : zhCN
}
