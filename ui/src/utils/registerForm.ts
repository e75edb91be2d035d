import type { FieldError, NewCase } from '../api/generated/bindings'
import { todayISO } from './format'

export interface PetitionerRow {
  /** Stable row key for v-for; not sent. */
  key: number
  name: string
  id_number: string
  phone: string
  address: string
  /** 代表: one of those chosen to speak for a visit of several people. */
  representative: boolean
}

export interface RegisterForm {
  received: string
  channel: string
  source: string
  purpose: string
  sector: string
  category: string
  township: string
  persons: number
  batches: number
  skip_level: boolean
  repeat: boolean
  anonymous: boolean
  confidential: boolean
  /** 来文机关 and 来文文号, for a referral. */
  referred_by: string
  referral_number: string
  /** 12336平台编号, for a 12336 report. */
  platform_number: string
  /** 重大紧急, 扬言, 涉法涉诉. */
  urgent: boolean
  threat: boolean
  litigation: boolean
  village: string
  subject: string
  request: string
  petitioners: PetitionerRow[]
  handler: string
}

let nextKey = 1

export function emptyPetitioner(): PetitionerRow {
  return { key: nextKey++, name: '', id_number: '', phone: '', address: '', representative: false }
}

export function emptyForm(township = '', handler = ''): RegisterForm {
  return {
    received: todayISO(),
    channel: '',
    source: '',
    purpose: '',
    sector: '',
    category: '',
    township,
    persons: 1,
    batches: 1,
    skip_level: false,
    repeat: false,
    anonymous: false,
    confidential: false,
    referred_by: '',
    referral_number: '',
    platform_number: '',
    urgent: false,
    threat: false,
    litigation: false,
    village: '',
    subject: '',
    request: '',
    petitioners: [emptyPetitioner()],
    handler,
  }
}

/** Whether anything beyond the defaults was entered (leaving then asks first). */
export function isDirty(form: RegisterForm, pristine: RegisterForm): boolean {
  const strip = (f: RegisterForm) =>
    JSON.stringify({ ...f, petitioners: f.petitioners.map(({ key: _key, ...p }) => p) })
  return strip(form) !== strip(pristine)
}

/**
 * The command input. Petitioner rows are sent in screen order, blank ones included, so the
 * server's `petitioners[i]` keys point at the row the user sees as row i.
 */
export function toNewCase(form: RegisterForm): NewCase {
  const opt = (v: string) => (v.trim() === '' ? undefined : v.trim())
  return {
    received: form.received || null,
    channel: form.channel,
    source: form.source,
    persons: form.persons,
    batches: form.channel === 'visit' ? form.batches : undefined,
    skip_level: form.skip_level,
    repeat: form.repeat,
    anonymous: form.anonymous,
    confidential: form.confidential,
    referred_by: opt(form.referred_by),
    referral_number: opt(form.referral_number),
    platform_number: form.source === 'report_12336' ? opt(form.platform_number) : undefined,
    urgent: form.urgent,
    threat: form.threat,
    litigation: form.litigation,
    purpose: opt(form.purpose),
    sector: form.sector,
    category: form.category,
    township: opt(form.township),
    subject: opt(form.subject),
    request: form.request.trim(),
    village: opt(form.village),
    petitioners: form.petitioners.map((p) => ({
      name: p.name.trim(),
      id_number: opt(p.id_number),
      phone: opt(p.phone),
      address: opt(p.address),
      // Only a visit chooses representatives; a tick left from a visit is not sent with a letter.
      representative: (form.channel === 'visit' && p.representative) || undefined,
    })),
  }
}

const FORM_FIELDS = new Set([
  'received',
  'channel',
  'source',
  'purpose',
  'sector',
  'category',
  'township',
  'persons',
  'batches',
  'skip_level',
  'repeat',
  'anonymous',
  'confidential',
  'referred_by',
  'referral_number',
  'platform_number',
  'representatives',
  'village',
  'subject',
  'request',
  'handler',
])
const PETITIONER_FIELDS = new Set(['name', 'id_number', 'phone', 'address'])

/** Whether the register form has an input for a (normalised) server field key. */
export function isRegisterField(field: string, petitionerCount: number): boolean {
  if (FORM_FIELDS.has(field)) return true
  const m = /^petitioners\[(\d+)\]\.(\w+)$/.exec(field)
  if (!m) return false
  return Number(m[1]) < petitionerCount && PETITIONER_FIELDS.has(m[2] ?? '')
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

/** GB 11643 resident identity number: 18 characters with a valid check character. */
export function residentIdOk(value: string): boolean {
  const v = value.trim().toUpperCase()
  if (!/^\d{17}[\dX]$/.test(v)) return false
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(v[i]) * (ID_WEIGHTS[i] ?? 0)
  return ID_CHECK[sum % 11] === v[17]
}

/** A mobile (11 digits, 1[3-9]…) or a fixed line with its area code (0…, 10 to 12 digits); +86 allowed. */
export function phoneOk(value: string): boolean {
  const v = value.trim()
  if (!/^[\d\s+-]*$/.test(v)) return false
  let digits = v.replace(/\D/g, '')
  if (v.startsWith('+')) {
    if (!digits.startsWith('86')) return false
    digits = digits.slice(2)
  }
  return /^1[3-9]\d{9}$/.test(digits) || /^0\d{9,11}$/.test(digits)
}

type Translate = (key: string, named?: Record<string, unknown>) => string

/** The checks the form can make before asking the server (which checks everything again). */
export function validateRegister(form: RegisterForm, t: Translate, today = todayISO()): FieldError[] {
  const errors: FieldError[] = []
  const need = (field: string, value: string, labelKey: string) => {
    if (value.trim() === '') {
      const label = t(labelKey)
      errors.push({ field, label, message: t('register.errors.required', { label }) })
    }
  }
  // A select or a date is chosen, not typed: its error says 请选择.
  const choose = (field: string, value: string, labelKey: string) => {
    if (value.trim() === '') {
      const label = t(labelKey)
      errors.push({ field, label, message: t('register.errors.choose', { label }) })
    }
  }
  choose('received', form.received, 'register.fields.received')
  if (form.received && form.received > today) {
    errors.push({
      field: 'received',
      label: t('register.fields.received'),
      message: t('register.errors.future'),
    })
  }
  choose('channel', form.channel, 'register.fields.channel')
  choose('source', form.source, 'register.fields.source')
  choose('purpose', form.purpose, 'register.fields.purpose')
  choose('sector', form.sector, 'register.fields.sector')
  choose('category', form.category, 'register.fields.category')
  need('request', form.request, 'register.fields.request')
  if (!Number.isInteger(form.persons) || form.persons < 1) {
    errors.push({
      field: 'persons',
      label: t('register.fields.persons'),
      message: t('register.errors.persons'),
    })
  }
  if (form.channel === 'visit') {
    if (!Number.isInteger(form.batches) || form.batches < 1) {
      errors.push({
        field: 'batches',
        label: t('register.fields.batches'),
        message: t('register.errors.batches'),
      })
    } else if (form.batches > form.persons) {
      errors.push({
        field: 'batches',
        label: t('register.fields.batches'),
        message: t('register.errors.batchesOverPersons'),
      })
    }
  }
  const named = form.petitioners.some((p) => p.name.trim() !== '')
  if (!named && !form.anonymous) {
    errors.push({
      field: 'petitioners[0].name',
      label: t('register.fields.name'),
      message: t('register.errors.nameOrAnonymous'),
    })
  }
  form.petitioners.forEach((p, i) => {
    const rest = p.id_number.trim() || p.phone.trim() || p.address.trim()
    if (p.name.trim() === '' && rest && (named || form.anonymous)) {
      errors.push({
        field: `petitioners[${i}].name`,
        label: t('register.fields.name'),
        message: t('register.errors.rowWithoutName'),
      })
    }
    if (p.id_number.trim() && !residentIdOk(p.id_number)) {
      errors.push({
        field: `petitioners[${i}].id_number`,
        label: t('register.fields.idNumber'),
        message: t('register.errors.idNumber'),
      })
    }
    if (p.phone.trim() && !phoneOk(p.phone)) {
      errors.push({
        field: `petitioners[${i}].phone`,
        label: t('register.fields.phone'),
        message: t('register.errors.phone'),
      })
    }
  })
  return errors
}
