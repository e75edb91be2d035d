// A stand-in for the Tauri shell, for running the UI in a browser (`npm run dev:mock`) and for the
// page test. Loaded only when VITE_MOCK_IPC=1. It follows commands.md and answers the way the real
// commands do, errors included, over a small in-memory data set.
import { mockIPC } from '@tauri-apps/api/mocks'
import { emit } from '@tauri-apps/api/event'
import type {
  ActionInput,
  AppState,
  CaseQuery,
  CaseRow,
  CaseView,
  CommandError,
  Deadline,
  DueList,
  FieldError,
  ImportReport,
  NewCase,
  Picked,
  Rate,
  RulesView,
  Statistics,
  YearReport,
} from './generated/bindings'
import {
  OFFICE,
  VOCABULARIES,
  addDays,
  buildMockData,
  MOCK_PASSPHRASE,
  MOCK_RECOVERY,
  initialAppState,
  initialRules,
  isoDay,
  makeEvent,
  maskName,
  mintId,
  mintNumber,
  type MockCase,
} from './mockData'
import recordedReviewBody from './fixtures/set_rule_review_body.json'
import { phoneOk, residentIdOk } from '../utils/registerForm'

type Args = Record<string, unknown>

const today = () => isoDay(new Date())
// `?setup` in the page's address starts the mock on a computer not yet set up; `?plain` on one
// enrolled over plain http:// (the shell's `plain_http` warning); `?locked` on one whose store
// waits for its 台账口令 (MOCK_PASSPHRASE opens it). `?keyring`: the computer has a system
// keyring (set-up then asks for no passphrase).
const query = typeof location !== 'undefined' ? new URLSearchParams(location.search) : new URLSearchParams()

/** What the shell reports before a store is open: no office, no hub. */
function noStore(locked: boolean): AppState {
  return { ...initialAppState(), ready: false, locked, office: null, hub: null, hub_warning: null, demo: false, demo_cases: 0 }
}

function startState(flags: URLSearchParams): AppState {
  const state = flags.has('setup')
    ? noStore(false)
    : flags.has('locked')
      ? noStore(true)
      : flags.has('plain')
        ? { ...initialAppState(), hub: 'http://county-hub:8750', hub_warning: 'plain_http' }
        : initialAppState()
  return { ...state, keyring: flags.has('keyring') }
}

let appState: AppState = startState(query)
let data = buildMockData(today())
let rules = initialRules(true, true)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function fail(code: string, message: string, fields?: FieldError[]): never {
  const error: CommandError = fields ? { code, message, fields } : { code, message }
  throw error
}

function invalid(fields: FieldError[]): never {
  fail('invalid_input', fields.map((f) => `${f.label}：${f.message}`).join('；'), fields)
}

type ListKind = Exclude<keyof typeof VOCABULARIES, 'category_by_sector' | 'issued_documents' | 'referral_sources'>

const labelOf = (kind: ListKind, code: string) =>
  VOCABULARIES[kind]?.find((v) => v.code === code)?.label ?? code

/** A code, or the code of a label (the real commands accept both). */
function codeOf(kind: ListKind, value: string | undefined): string | null {
  if (!value) return null
  const list = VOCABULARIES[kind] ?? []
  return list.find((v) => v.code === value || v.label === value)?.code ?? null
}

function find(id: unknown): MockCase {
  const m = data.cases.find((c) => c.case.id === id)
  if (!m) fail('not_found', '找不到这个案件：它可能已被转交或删除，请返回台账刷新')
  return m
}

function daysBetween(from: string, to: string): number {
  return Math.round((new Date(`${to}T00:00:00`).getTime() - new Date(`${from}T00:00:00`).getTime()) / 86_400_000)
}

function eventDate(m: MockCase, actions: string[]): string | null {
  return m.case.events.find((e) => actions.includes(e.action))?.date ?? null
}

function deadlines(m: MockCase, asOf: string): Deadline[] {
  const items: Deadline[] = []
  const make = (kind: string, start: string, due: string, met: string | null, informational = false): Deadline => {
    const days_left = daysBetween(asOf, due)
    return {
      kind,
      start,
      due,
      met_on: met,
      days_left,
      overdue: !informational && met === null && days_left < 0,
      late: met !== null && met > due,
      informational,
      estimated: due > '2026-12-31',
    }
  }
  const received = m.case.submissions[0]?.received ?? asOf
  const decided = eventDate(m, ['accept', 'not_accept', 'no_further', 'forward', 'assign'])
  if (m.status === 'voided') return items
  items.push(make('decide', received, addDays(received, 15), decided))
  // 异议期限: only the office that received the referral sees its right to return it.
  const source = m.case.submissions[0]?.source ?? 'direct'
  const referral = !['direct', 'report_12336', 'online_opinion'].includes(source)
  if (referral && decided === null && m.case.registered_by === OFFICE.code) {
    items.push(make('objection', received, addDays(received, 7), null, true))
  }
  const replied = eventDate(m, ['reply'])
  const assign = [...m.case.events].reverse().find((e) => e.action === 'assign' || e.action === 'reassign')
  if (assign?.due) items.push(make('assigned', assign.date, assign.due, replied))
  const accepted = eventDate(m, ['accept'])
  if (accepted) {
    const extended = [...m.case.events].reverse().find((e) => e.action === 'extend')?.due
    items.push(make('handle', accepted, extended ?? addDays(accepted, 60), replied))
  }
  if (replied && m.status === 'replied') items.push(make('review_request', replied, addDays(replied, 30), null, true))
  return items
}

const CLOSED = ['closed', 'voided', 'not_accepted', 'forwarded']

function nextDue(m: MockCase): { due: string; kind: string } | null {
  if (CLOSED.includes(m.status)) return null
  const open = deadlines(m, today())
    .filter((d) => !d.met_on && !d.informational)
    .sort((a, b) => (a.due < b.due ? -1 : 1))[0]
  return open ? { due: open.due, kind: open.kind } : null
}

function row(m: MockCase): CaseRow {
  const first = m.case.submissions[0]
  const next = nextDue(m)
  return {
    id: m.case.id,
    number: m.case.number,
    status: m.status,
    township: m.case.jurisdiction,
    category: m.case.category,
    sector: m.case.sector,
    purpose: m.case.purpose,
    source: first?.source ?? null,
    channel: first?.channel ?? null,
    received: first?.received ?? null,
    names: m.case.petitioners.map((p) => m.identity?.persons.find((q) => q.id === p.id)?.name || p.display_name).join('、'),
    village: m.case.village,
    next_due: next?.due ?? null,
    next_due_kind: next?.kind ?? null,
    anomalies: m.anomalies.length,
    conflicts: m.conflicts.length,
    handed_over: m.handed_over,
    registered_by: m.case.registered_by,
    demo: m.case.demo === true,
  }
}

// What the bureau may record in each state (the role table of the workflow, simplified).
const ALLOWED: Record<string, string[]> = {
  registered: ['accept', 'assign', 'forward', 'notify', 'not_accept', 'no_further', 'void'],
  accepted: ['assign', 'investigate', 'notify', 'extend', 'reply', 'void'],
  assigned: ['reassign', 'investigate', 'supervise', 'chase', 'extend', 'reply', 'void'],
  in_progress: ['investigate', 'hearing', 'mediate', 'supervise', 'chase', 'extend', 'reply', 'reassign'],
  extended: ['investigate', 'hearing', 'mediate', 'supervise', 'chase', 'reply'],
  replied: ['deliver', 'evaluate', 'follow_up', 'review', 'close'],
  under_review: ['review_opinion', 'deliver'],
  reviewed: ['recheck_request', 'deliver', 'evaluate', 'follow_up', 'close'],
  under_recheck: ['recheck_opinion', 'deliver'],
  rechecked: ['deliver', 'evaluate', 'follow_up', 'close'],
  closed: ['deliver', 'follow_up'],
}

const NEXT_STATUS: Record<string, string> = {
  accept: 'accepted',
  not_accept: 'not_accepted',
  no_further: 'not_accepted',
  forward: 'forwarded',
  assign: 'assigned',
  reassign: 'assigned',
  object: 'registered',
  extend: 'extended',
  reply: 'replied',
  review: 'under_review',
  review_opinion: 'reviewed',
  recheck_request: 'under_recheck',
  recheck_opinion: 'rechecked',
  close: 'closed',
  void: 'voided',
}

function view(m: MockCase): CaseView {
  return structuredClone({
    case: m.case,
    identity: m.identity,
    office_names: Object.fromEntries(data.offices.map((o) => [o.office, o.name])),
    // What the shell's Case::names gives: the full name where the identity is here.
    names: m.case.petitioners.map((p) => m.identity?.persons.find((q) => q.id === p.id)?.name || p.display_name),
    status: m.status,
    anomalies: m.anomalies,
    deadlines: { items: deadlines(m, today()), problems: [] },
    conflicts: m.conflicts,
    allowed_actions: m.handed_over ? [] : (ALLOWED[m.status] ?? []),
    handed_over: m.handed_over,
    documents: m.documents,
    evaluations: m.case.events
      .filter((e) => e.action === 'evaluate' && e.satisfaction)
      .map((e) => ({ result: e.satisfaction ?? '', date: e.date, comment: e.text ?? '', event_id: e.id })),
    pending_upload: m.pending_upload,
    identity_restricted: m.case.confidential || m.case.purpose === 'report',
    refused: [],
    identities_to_deliver: 0,
    // What the shell's HandlingTrack::proposed gives.
    track: 'petition',
    proposed_track: m.case.purpose === 'report' ? 'report' : m.case.purpose === 'suggestion' ? 'suggestion' : 'petition',
    printable: [],
  })
}

function isOverdue(m: MockCase): boolean {
  return !CLOSED.includes(m.status) && deadlines(m, today()).some((d) => d.overdue)
}

function listCases(q: CaseQuery) {
  const text = q.text?.trim().toLowerCase()
  const rows = data.cases.filter((m) => {
    const first = m.case.submissions[0]
    if (q.status && m.status !== q.status) return false
    if (q.township && m.case.jurisdiction !== q.township) return false
    if (q.category && m.case.category !== q.category) return false
    if (q.source && first?.source !== q.source) return false
    if (q.received_from && (first?.received ?? '') < q.received_from) return false
    if (q.received_to && (first?.received ?? '') > q.received_to) return false
    if (q.overdue && !isOverdue(m)) return false
    if (text) {
      const hay = [
        m.case.number,
        m.case.official_number ?? '',
        m.case.village,
        m.case.request,
        m.case.subject,
        ...m.case.petitioners.map((p) => p.display_name),
        ...(m.identity?.persons.map((p) => `${p.name} ${p.phone} ${p.id_number}`) ?? []),
      ]
        .join(' ')
        .toLowerCase()
      if (!hay.includes(text)) return false
    }
    return true
  })
  const offset = q.offset ?? 0
  const limit = q.limit ?? 50
  return { total: rows.length, rows: rows.slice(offset, offset + limit).map(row) }
}

function zeroed(kind: ListKind): Record<string, number> {
  return Object.fromEntries((VOCABULARIES[kind] ?? []).map((v) => [v.label, 0]))
}

function rate(numerator: number, denominator: number): Rate {
  return { numerator, denominator, value: denominator === 0 ? null : Math.round((numerator / denominator) * 10_000) / 10_000, pending: 0, unknown: 0 }
}

function statistics(from: string, to: string, township?: string): Statistics {
  const asOf = to < today() ? to : today()
  const s: Statistics = {
    period: { from, to },
    township: township ?? null,
    as_of: asOf,
    total: 0,
    cases: 0,
    by_source: zeroed('source'),
    by_channel: zeroed('channel'),
    by_domain: zeroed('sector'),
    by_category: zeroed('category'),
    by_source_channel: {},
    visits: { batches: 0, persons: 0 },
    flags: { collective: 0, skip_level: 0, repeat: 0 },
    rates: {},
  }
  const matters: MockCase[] = []
  for (const m of data.cases) {
    if (m.status === 'voided' || (township && m.case.jurisdiction !== township)) continue
    let counted = false
    for (const sub of m.case.submissions) {
      if (sub.received < from || sub.received > to) continue
      counted = true
      s.total++
      const source = labelOf('source', sub.source)
      const channel = labelOf('channel', sub.channel)
      s.by_source[source] = (s.by_source[source] ?? 0) + 1
      s.by_channel[channel] = (s.by_channel[channel] ?? 0) + 1
      const domain = labelOf('sector', m.case.sector)
      s.by_domain[domain] = (s.by_domain[domain] ?? 0) + 1
      const category = labelOf('category', m.case.category)
      s.by_category[category] = (s.by_category[category] ?? 0) + 1
      const bySource = (s.by_source_channel[source] ??= {})
      bySource[channel] = (bySource[channel] ?? 0) + 1
      if (sub.channel === 'visit') {
        s.visits.batches += sub.batches
        s.visits.persons += sub.persons
      }
      if (sub.collective) s.flags.collective++
      if (sub.skip_level) s.flags.skip_level++
      if (sub.repeat) s.flags.repeat++
    }
    if (counted) s.cases++
    const first = m.case.submissions[0]?.received ?? ''
    if (first >= from && first <= to) matters.push(m)
  }
  let timely = 0, decideJudged = 0, onTime = 0, replied = 0, replyJudged = 0
  let closed = 0, handled = 0, rated = 0, satisfied = 0, ratingJudged = 0, settled = 0, closedJudged = 0
  for (const m of matters) {
    const ds = deadlines(m, asOf)
    const decide = ds.find((d) => d.kind === 'decide')
    if (decide && (decide.met_on || decide.overdue)) {
      decideJudged++
      if (decide.met_on && !decide.late) timely++
    }
    const handle = ds.find((d) => d.kind === 'handle')
    if (handle && (handle.met_on || handle.overdue)) {
      replyJudged++
      if (handle.met_on) replied++
      if (handle.met_on && !handle.late) onTime++
    }
    if (eventDate(m, ['accept', 'assign'])) {
      handled++
      if (m.status === 'closed') closed++
    }
    if (eventDate(m, ['reply'])) {
      ratingJudged++
      const ev = m.case.events.find((e) => e.action === 'evaluate')
      if (ev) {
        rated++
        if (ev.satisfaction !== 'dissatisfied') satisfied++
      }
    }
    if (m.status === 'closed') {
      closedJudged++
      if (m.case.submissions.length === 1) settled++
    }
  }
  s.rates = {
    及时受理率: rate(timely, decideJudged),
    按期办结率: rate(onTime, replyJudged),
    回复率: rate(replied, replyJudged),
    办结率: rate(closed, handled),
    参评率: rate(rated, ratingJudged),
    满意率: rate(satisfied, rated),
    停访息诉率: rate(settled, closedJudged),
    重复信访率: rate(s.flags.repeat, s.total),
  }
  return s
}

function yearReport(year: number, township?: string): YearReport {
  const months = Array.from({ length: 12 }, (_, i) => {
    const from = `${year}-${String(i + 1).padStart(2, '0')}-01`
    const to = addDays(i === 11 ? `${year + 1}-01-01` : `${year}-${String(i + 2).padStart(2, '0')}-01`, -1)
    return statistics(from, to, township)
  })
  return {
    year: statistics(`${year}-01-01`, `${year}-12-31`, township),
    previous: statistics(`${year - 1}-01-01`, `${year - 1}-12-31`, township),
    months,
  }
}

function dueList(township?: string): DueList {
  const t = today()
  const out: DueList = { today: t, overdue: [], within_3: [], within_10: [] }
  for (const m of data.cases) {
    if (township && m.case.jurisdiction !== township) continue
    const next = nextDue(m)
    if (!next) continue
    const left = daysBetween(t, next.due)
    if (left < 0) out.overdue.push(row(m))
    else if (left <= 3) out.within_3.push(row(m))
    else if (left <= 10) out.within_10.push(row(m))
  }
  return out
}

function checkNewCase(input: NewCase): FieldError[] {
  const errors: FieldError[] = []
  const need = (field: string, label: string, ok: boolean, message: string) => {
    if (!ok) errors.push({ field, label, message })
  }
  need('received', '信访日期', Boolean(input.received), '请填写信访日期')
  if (input.received && input.received > today()) errors.push({ field: 'received', label: '信访日期', message: '信访日期不能晚于今天' })
  need('channel', '信访形式', codeOf('channel', input.channel) !== null, `请填写信访形式（${VOCABULARIES.channel.map((v) => v.label).join('、')}）`)
  need('source', '信访来源', codeOf('source', input.source) !== null, '请填写信访来源')
  need('sector', '涉及领域', codeOf('sector', input.sector) !== null, '请填写涉及领域（涉土、涉矿、其它）')
  need('category', '问题类别', codeOf('category', input.category) !== null, '请填写问题类别')
  need(
    'purpose',
    '信访目的',
    codeOf('source', input.source) === 'report_12336' || codeOf('purpose', input.purpose) !== null,
    '请选择信访目的：建议意见、检举控告、申诉求决或咨询',
  )
  need('request', '诉求内容', input.request.trim() !== '', '请填写信访人的诉求、事实和理由')
  if (input.township && !OFFICE.townships.includes(input.township)) {
    errors.push({ field: 'township', label: '所属乡镇', message: `「${input.township}」不是本县的乡镇：${OFFICE.townships.join('、')}` })
  }
  if (!input.anonymous && input.petitioners.every((p) => !p.name.trim())) {
    errors.push({ field: 'petitioners[0].name', label: '信访人', message: '请填写信访人姓名；匿名举报请勾选「匿名」' })
  }
  input.petitioners.forEach((p, i) => {
    if (!p.name.trim()) return
    if (p.id_number && !residentIdOk(p.id_number)) {
      errors.push({ field: `petitioners[${i}].id_number`, label: '证件号码', message: '身份证号码校验位不对，请核对' })
    }
    if (p.phone && !phoneOk(p.phone)) {
      errors.push({ field: `petitioners[${i}].phone`, label: '联系电话', message: `「${p.phone}」不像电话号码：手机应为11位数字，固定电话请带区号（如 0739-7221234）` })
    }
  })
  return errors
}

function registerCase(input: NewCase, handler?: string): string {
  const errors = checkNewCase(input)
  if (errors.length > 0) invalid(errors)
  const received = input.received ?? today()
  const id = mintId()
  const named = input.petitioners.filter((p) => p.name.trim())
  const ids = named.map(() => mintId())
  const channel = codeOf('channel', input.channel) ?? 'letter'
  const m: MockCase = {
    case: {
      id,
      schema_version: 1,
      identity_released: false,
      restrictive_values: false,
      demo: false,
      number: mintNumber(received.slice(0, 4)),
      official_number: null,
      registered_by: OFFICE.code,
      purpose: codeOf('purpose', input.purpose) ?? 'appeal',
      sector: codeOf('sector', input.sector) ?? 'land',
      category: codeOf('category', input.category) ?? 'other',
      jurisdiction: input.township ?? null,
      subject: input.subject ?? '',
      request: input.request.trim(),
      village: input.village ?? '',
      confidential: input.confidential ?? false,
      petitioners: named.map((p, i) => ({ id: ids[i] ?? '', kind: 'citizen', display_name: maskName(p.name.trim()) })),
      submissions: [
        {
          id: mintId(),
          channel,
          source: codeOf('source', input.source) ?? 'direct',
          received,
          batches: channel === 'visit' ? (input.batches ?? 1) : 0,
          persons: input.persons ?? 1,
          collective: (input.persons ?? 1) >= 5,
          skip_level: input.skip_level ?? false,
          repeat: input.repeat ?? false,
          anonymous: input.anonymous ?? false,
          confidential: input.confidential ?? false,
          petitioners: ids,
          summary: '',
          registered_by: OFFICE.code,
          fingerprint: null,
          referred_by: null,
          referral_number: null,
        },
      ],
      events: [makeEvent('register', received, handler ?? OFFICE.staff[0] ?? '')],
      attachments: [],
      reply_draft: '',
      investigation_report: '',
    },
    identity: {
      case_id: id,
      schema_version: 1,
      persons: named.map((p, i) => ({
        id: ids[i] ?? '',
        name: p.name.trim(),
        id_type: 'resident_id',
        id_number: p.id_number ?? '',
        phone: p.phone ?? '',
        address: p.address ?? '',
      })),
    },
    status: 'registered',
    conflicts: [],
    anomalies: [],
    handed_over: false,
    pending_upload: 1,
    documents: [],
  }
  data.cases.unshift(m)
  changed(id)
  return id
}

function act(id: string, input: ActionInput): string {
  const m = find(id)
  if (m.handed_over) fail('handed_over', '此案件已转交其他乡镇，本机只读')
  const action = input.action
  if (!(ALLOWED[m.status] ?? []).includes(action)) {
    fail('refused', `案件当前为「${labelOf('status', m.status)}」，不能「${labelOf('action', action)}」`)
  }
  const text = input.text?.trim() || null
  const extra: Parameters<typeof makeEvent>[3] = { text }
  switch (action) {
    case 'assign':
    case 'reassign':
      if (!input.target) invalid([{ field: 'to', label: '承办乡镇', message: '请选择承办乡镇' }])
      if (!OFFICE.townships.includes(input.target)) {
        invalid([{ field: 'to', label: '承办乡镇', message: `「${input.target}」不是本县的乡镇` }])
      }
      if (action === 'reassign' && input.target === m.case.jurisdiction) {
        invalid([{ field: 'to', label: '承办乡镇', message: `案件已由${input.target}承办，无需改派` }])
      }
      if (input.due && input.due <= today()) invalid([{ field: 'due', label: '交办期限', message: '交办期限须晚于今天' }])
      extra.target = input.target
      extra.due = input.due ?? null
      m.case.jurisdiction = input.target
      break
    case 'forward':
      if (!input.target) invalid([{ field: 'to', label: '转送单位', message: '请写明转送的有权处理机关' }])
      extra.target = input.target
      break
    case 'accept':
      m.case.official_number = `洞国土信〔${today().slice(0, 4)}〕${200 + data.cases.length}号`
      break
    case 'not_accept':
    case 'no_further':
    case 'object':
    case 'void':
      if (!text) invalid([{ field: 'text', label: '理由', message: `「${labelOf('action', action)}」须写明理由` }])
      break
    case 'extend':
      if (!input.due) invalid([{ field: 'due', label: '延期至', message: '请写明延长后的办理期限' }])
      if (!text) invalid([{ field: 'text', label: '延期理由', message: '延期须告知信访人理由，请写明' }])
      extra.due = input.due
      break
    case 'reply': {
      const reply = text ?? (m.case.reply_draft.trim() || null)
      if (!reply) invalid([{ field: 'text', label: '答复内容', message: '请填写答复内容，或先写好答复草稿' }])
      if (!input.outcome) invalid([{ field: 'outcome', label: '处理意见', message: '请选择处理意见：予以支持、解释说明或不予支持' }])
      extra.text = reply
      extra.outcome = input.outcome
      m.case.reply_draft = ''
      break
    }
    case 'review_opinion':
    case 'recheck_opinion':
      if (!input.target) invalid([{ field: 'to', label: '作出意见的机关', message: '请写明作出意见的机关' }])
      if (!input.review_outcome) invalid([{ field: 'review_outcome', label: '结论', message: '请选择结论：维持、撤销并责令重作或变更' }])
      extra.target = input.target
      break
    case 'deliver':
      if (!input.target) invalid([{ field: 'to', label: '受送达人', message: '请写明受送达人' }])
      if (!text) invalid([{ field: 'text', label: '送达方式', message: '请写明送达方式，如直接送达、邮寄送达、留置送达' }])
      extra.target = input.target
      extra.document_kind = 'handling_opinion'
      break
    case 'evaluate':
      if (!input.result) invalid([{ field: 'result', label: '评价结果', message: '请选择评价结果：满意、基本满意或不满意' }])
      extra.satisfaction = input.result
      break
    case 'close':
      extra.close_reason = input.reason ?? 'replied'
      break
  }
  m.case.events.push(makeEvent(action, today(), input.handler ?? OFFICE.staff[0] ?? '', extra))
  const setAside = (action === 'review_opinion' || action === 'recheck_opinion') && input.review_outcome === 'redo'
  const next = setAside
    ? 'in_progress'
    : (NEXT_STATUS[action] ?? (['investigate', 'hearing', 'mediate'].includes(action) && ['accepted', 'assigned'].includes(m.status) ? 'in_progress' : m.status))
  m.status = next
  m.pending_upload++
  changed(id)
  return next
}

function renderDocument(id: string, kind: string, issue: boolean): string {
  const m = find(id)
  const name = labelOf('document_kind', kind)
  let number = '（预览，未编号）'
  if (issue) {
    number = `洞国土信${kind === 'acceptance_notice' ? '受' : '文'}〔${today().slice(0, 4)}〕${m.documents.length + 60}号`
    const event = makeEvent('issue_document', today(), OFFICE.staff[0] ?? '', { document_kind: kind, document_number: number })
    m.case.events.push(event)
    m.documents.push({ kind, number, issued: today(), event_id: event.id, office: OFFICE.code })
    changed(id)
  }
  const who = m.identity?.persons.map((p) => p.name).join('、') || m.case.petitioners.map((p) => p.display_name).join('、')
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${name}</title>
<style>body{font-family:'SimSun','Songti SC',serif;margin:48px 64px;line-height:2;font-size:16px}
h1{text-align:center;font-size:24px;letter-spacing:4px}.no{text-align:center}.sign{text-align:right;margin-top:48px}</style></head>
<body><h1>${name}</h1><p class="no">${number}</p><p>${who}：</p>
<p>你于${m.case.submissions[0]?.received ?? ''}通过${labelOf('channel', m.case.submissions[0]?.channel ?? '')}反映的“${m.case.request}”一事（案件编号 ${m.case.number}），本局已依法登记。</p>
<p>根据《信访工作条例》的规定，现将有关事项告知如下。</p>
<p class="sign">${OFFICE.name}<br>${today()}</p></body></html>`
}

function changed(caseId: string | null) {
  void emit('store-changed', { case_id: caseId })
  data.sync.pending++
  void emit('sync-status', { ...data.sync })
}

async function progress(task: 'import' | 'export' | 'sync', total: number) {
  for (let done = 0; done <= total; done += Math.ceil(total / 8)) {
    await emit('progress', { task, done: Math.min(done, total), total })
    await sleep(150)
  }
  await emit('progress', { task, done: total, total })
}

async function importLedger(name: string, skipInvalid: boolean, dryRun: boolean, joinByNumber: boolean): Promise<ImportReport> {
  const bad = /bad|错误/i.test(name)
  await progress('import', 24)
  const invalidRows = bad ? ['第3行 信访日期: 「2024-13-01」不是有效日期', '第7行 证件号码: 身份证号码校验位不对'] : []
  if (bad && !skipInvalid) {
    fail('import_rejected', `导入文件有${invalidRows.length}处错误，未导入任何记录：\n${invalidRows.join('\n')}`)
  }
  // One row shares a number with a case here but carries no case id: it joins only if confirmed.
  const numberMatches = [
    joinByNumber
      ? '第5行 案件编号 洞口-2024-0003：经确认为本台账同号案件的重复信访件，追加到该案件'
      : '第5行 案件编号 洞口-2024-0003：本台账已有同号案件，但没有案件标识证明是同一事项，登记为新案件（另编号）',
  ]
  const report: ImportReport = {
    rows: 24 - invalidRows.length,
    cases: joinByNumber ? 3 : 4,
    added_submissions: joinByNumber ? 1 : 0,
    duplicates: 18,
    invalid: invalidRows,
    unknown_columns: bad ? ['备注2'] : [],
    bureau_steps_left_out: 0,
    dry_run: dryRun,
    number_matches: numberMatches,
    renumbered: [],
  }
  if (dryRun) return report
  for (let i = 0; i < 3; i++) {
    registerCase({
      received: addDays(today(), -5 - i),
      channel: 'letter',
      source: 'city_bureau',
      sector: 'land',
      category: 'illegal_occupation',
      purpose: 'report',
      township: OFFICE.townships[i] ?? '',
      village: '新田村',
      request: '导入：反映违法占地建房',
      petitioners: [{ name: ['曾春花', '邓光辉', '谢玉梅'][i] ?? '' }],
    })
  }
  return report
}

async function syncNow() {
  data.sync = { ...data.sync, syncing: true, online: true, last_attempt: Date.now(), state: 'syncing' }
  await emit('sync-status', { ...data.sync })
  await sleep(900)
  const uploaded = data.sync.pending
  data.sync = {
    ...data.sync,
    syncing: false,
    online: true,
    pending: 0,
    last_success: Date.now(),
    last_error: null,
    last_error_detail: null,
    state: 'synced',
  }
  for (const m of data.cases) m.pending_upload = 0
  await emit('sync-status', { ...data.sync })
  return { rounds: 2, uploaded, downloaded: 4, refused: 0, retries: 0 }
}

// The files chosen in the mock's dialogs, by handle: the shell keeps their paths and gives the
// page a handle and the file's name; here the name is all there is.
let picks = new Map<string, string>()
let pickSeq = 0

/** `pick_files`: the clerk picks the mock's file, or accepts the suggested name when saving. */
function pickFiles(args: Args): Picked[] {
  const text = args.text as { title?: unknown; filter?: unknown; default_name?: unknown } | undefined
  if (typeof text?.title !== 'string') fail('ipc', 'mock: pick_files needs text.title')
  const suggested = typeof text.default_name === 'string' ? text.default_name.trim() : ''
  const keep = (name: string): Picked => {
    const handle = `mock-pick-${++pickSeq}`
    picks.set(handle, name)
    return { handle, name }
  }
  switch (args.purpose) {
    case 'open_ledger':
      // The ledger file the mock offers has two bad rows, to show the rejection and the retry.
      return [keep('2024年信访台账（有错误行）.xlsx')]
    case 'attachments':
      return [keep('现场照片2.jpg')]
    case 'save_ledger': {
      const name = suggested || '信访台账.xlsx'
      return [keep(/\.(xlsx|csv)$/i.test(name) ? name : `${name}.xlsx`)]
    }
    case 'save_statistics': {
      const name = suggested || '信访统计表.xlsx'
      return [keep(/\.xlsx$/i.test(name) ? name : `${name}.xlsx`)]
    }
    default:
      fail('ipc', `mock: unknown purpose ${String(args.purpose)}`)
  }
}

/** The name of the file behind a handle `pick_files` gave; refused as the shell refuses it. */
function pickedName(handle: unknown): string {
  const name = picks.get(String(handle ?? ''))
  if (name === undefined) fail('invalid_input', '请先在对话框中选择文件')
  return name
}

/** The statistics workbooks written, for tests. */
export const statisticsExports: { from: string; to: string; name: string; township: string | null }[] = []

/** `from` and `to` of a statistics command, checked as the shell checks them. */
function period(args: Args): { from: string; to: string } {
  const from = String(args.from ?? '')
  const to = String(args.to ?? '')
  for (const d of [from, to]) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(new Date(`${d}T00:00:00`).getTime())) {
      fail('invalid_input', `日期「${d}」无效`)
    }
  }
  if (from > to) fail('invalid_input', `统计期间的开始日期「${from}」晚于结束日期「${to}」，请重新选择`)
  return { from, to }
}

/** 全县规则 as this office sees them: the bureau may change them; the document arrives by sync. */
function rulesView(): RulesView {
  return structuredClone({
    ...rules,
    editable: appState.office?.role === 'bureau',
    received: appState.hub !== null || rules.entries.length > 0,
  })
}

/** Records a rule change as the shell does, without its checks of values and dates. */
function setRule(args: Args): RulesView {
  if (appState.office?.role !== 'bureau') {
    fail('refused', '全县规则（期限、节假日、文书设置）只能由县局修改；本所随同步接收')
  }
  const item = String(args.item ?? '').trim()
  const value = String(args.value ?? '').trim()
  // The page test's change, as the real office answered it (src-tauri/src/fixtures.rs).
  const recorded = { item: 'county.review_body', value: '洞口县人民政府', from: null, note: '' }
  if (item === recorded.item && value === recorded.value && (args.from ?? null) === recorded.from && String(args.note ?? '').trim() === recorded.note) {
    rules = structuredClone(recordedReviewBody as unknown as RulesView)
    return rulesView()
  }
  const year = /^holidays\.(\d{4})$/.exec(item)?.[1]
  const label = year ? `${year}年节假日安排` : rules.items.find((i) => i.item === item)?.label
  if (!label) invalid([{ field: 'item', label: '规则项', message: `没有规则项「${item}」` }])
  if (item === 'county.review_body' && (value.length === 0 || [...value].length > 60)) {
    invalid([{ field: 'value', label, message: '复查机关名称应为 1 至 60 个字' }])
  }
  const from = (args.from as string | null | undefined) ?? today()
  rules.entries.unshift({
    item,
    label,
    value,
    from,
    recorded_at: Date.now(),
    handler: (args.handler as string | null | undefined) ?? appState.office?.staff[0] ?? '',
    note: String(args.note ?? '').trim(),
  })
  // Only what the settings screen shows as in force today changes here.
  if (from <= today()) {
    if (item === 'county.review_body') rules.county.review_body = value
    if (item === 'county.township_review_body') rules.county.township_review_body = value
    if (item === 'county.issues_own_documents') rules.county.issues_own_documents = value === 'true'
    const row = rules.legal_basis.find((b) => `basis.${b.category}` === item)
    if (row) Object.assign(row, { basis: value, county: true })
  }
  return rulesView()
}

/** The store's protection, as the shell checks it before creating anything. */
function checkPassphrase(value: unknown) {
  const passphrase = typeof value === 'string' ? value : ''
  if (!passphrase.trim()) {
    if (appState.keyring) return
    invalid([{ field: 'passphrase', label: '台账口令', message: '本机没有可用的系统密钥环：请设置台账口令（命令行用环境变量 LEDGER_PASSPHRASE）' }])
  }
  if ([...passphrase.trim()].length < 8) invalid([{ field: 'passphrase', label: '台账口令', message: '口令至少 8 个字符' }])
}

async function handle(cmd: string, args: Args): Promise<unknown> {
  await sleep(30)
  switch (cmd) {
    case 'app_state':
      return structuredClone(appState)
    case 'vocabularies':
      return structuredClone(VOCABULARIES)
    case 'enroll': {
      if (!String(args.token ?? '').trim()) invalid([{ field: 'token', label: '接入令牌', message: '请填写县局发给本机的接入令牌' }])
      checkPassphrase(args.passphrase)
      // `args.fingerprint` (the county CA's, or null) is the shell's to check; the mock trusts any.
      appState = {
        ...initialAppState(),
        keyring: appState.keyring,
        recovery: MOCK_RECOVERY,
        demo: false,
        hub: String(args.hub),
        hub_warning: null,
        office: { ...OFFICE, staff: args.staff as string[] },
      }
      data = { ...buildMockData(today()), cases: [] }
      rules = initialRules(true, true)
      return structuredClone(appState)
    }
    case 'setup_local':
      checkPassphrase(args.passphrase)
      appState = {
        ...initialAppState(),
        keyring: appState.keyring,
        recovery: MOCK_RECOVERY,
        demo: false,
        hub: null,
        hub_warning: null,
        office: {
          ...OFFICE,
          code: String(args.code),
          name: String(args.name),
          role: args.role as 'township' | 'bureau',
          townships: args.townships as string[],
          staff: args.staff as string[],
        },
      }
      data = { ...buildMockData(today()), cases: [] }
      rules = initialRules(true, true)
      return structuredClone(appState)
    case 'unlock': {
      // As the shell: a store already open stays open, whatever was typed.
      if (appState.locked) {
        const passphrase = String(args.passphrase ?? '')
        if (!passphrase.trim()) fail('invalid_input', '请输入台账口令或恢复口令')
        await sleep(400)
        if (passphrase.trim() !== MOCK_PASSPHRASE) {
          fail('storage', '口令不对，或台账文件不是用这把钥匙加密的：请核对口令后重试（也可以使用恢复口令）')
        }
        appState = { ...initialAppState(), keyring: appState.keyring }
      }
      return structuredClone(appState)
    }
    case 'recovery_shown':
      appState = { ...appState, recovery: null }
      return structuredClone(appState)
    case 'rules_view':
      return rulesView()
    case 'set_rule':
      return setRule(args)
    case 'update_staff': {
      const staff = args.staff as string[]
      if (staff.length === 0) invalid([{ field: 'staff', label: '办理人', message: '至少保留一名办理人' }])
      if (appState.office) appState.office.staff = [...staff]
      return structuredClone(appState.office)
    }
    case 'township_choices':
      // What the shell's Office::township_choices gives: the county's townships, each with the
      // offices enrolled for it (洞口镇 has none, to show the warning).
      return [...OFFICE.townships, '洞口镇'].map((name) => ({
        name,
        offices: data.offices.filter((o) => o.townships.includes(name)).map((o) => o.name),
      }))
    case 'remove_demo': {
      // Demo cases only: what the clerk registered stays, and so does the enrollment.
      const before = data.cases.length
      data.cases = data.cases.filter((m) => !m.case.demo)
      appState = { ...appState, demo: false, demo_cases: 0 }
      return structuredClone({ removed: { cases: before - data.cases.length, awaiting_hub: appState.hub !== null }, state: appState })
    }
    case 'list_cases':
      return listCases((args.query ?? {}) as CaseQuery)
    case 'case_detail':
      return view(find(args.id))
    case 'register_case':
      return registerCase(args.input as NewCase, args.handler as string | undefined)
    case 'similar_cases': {
      const name = String(args.name ?? '').trim()
      const village = String(args.village ?? '').trim()
      return data.cases
        .filter(
          (m) =>
            (name && m.identity?.persons.some((p) => p.name === name)) ||
            (village && m.case.village === village && !CLOSED.includes(m.status)),
        )
        .slice(0, 5)
        .map(row)
    }
    case 'act':
      return act(String(args.id), args.input as ActionInput)
    case 'add_submission':
      find(args.id)
      return mintId()
    case 'set_field':
      find(args.id)
      return null
    case 'set_draft': {
      const m = find(args.id)
      if (args.draft === 'reply') m.case.reply_draft = String(args.text)
      else m.case.investigation_report = String(args.text)
      return null
    }
    case 'resolve_conflict': {
      const m = find(args.id)
      const field = String(args.field)
      m.conflicts = m.conflicts.filter((c) => c.field !== field)
      if (field === 'category') m.case.category = String(args.value)
      m.case.events.push(makeEvent('resolve_conflict', today(), OFFICE.staff[0] ?? '', { field }))
      changed(m.case.id)
      return null
    }
    case 'pick_files':
      return pickFiles(args)
    case 'attach_file': {
      const m = find(args.id)
      const name = pickedName(args.handle)
      const hash = mintId().replace(/-/g, '')
      m.case.attachments.push({
        hash,
        name,
        size: 120_000 + m.case.attachments.length * 3_000,
        mime: 'application/octet-stream',
        added_at: Date.now(),
        added_by: OFFICE.staff[0] ?? '',
      })
      changed(m.case.id)
      return hash
    }
    case 'open_attachment':
      return null
    case 'due_list':
      return dueList(args.township as string | undefined)
    case 'year_report':
      return yearReport(Number(args.year), args.township as string | undefined)
    case 'statistics': {
      const { from, to } = period(args)
      return statistics(from, to, args.township as string | undefined)
    }
    case 'export_ledger':
      pickedName(args.handle)
      await progress('export', data.cases.length)
      return data.cases.length
    case 'export_statistics': {
      period(args)
      const name = pickedName(args.handle)
      await sleep(300)
      statisticsExports.push({ from: String(args.from), to: String(args.to), name, township: (args.township as string | undefined) ?? null })
      return null
    }
    case 'import_ledger':
      return importLedger(pickedName(args.handle), Boolean(args.skip_invalid), Boolean(args.dry_run), Boolean(args.join_by_number))
    case 'sync_status':
      return { ...data.sync }
    case 'recover_refused':
      return { cases: 0, redone: [], unrecoverable: [] }
    case 'sync_now':
      return syncNow()
    case 'restart_sync':
      return syncNow()
    case 'quarantine':
      return structuredClone(data.quarantine)
    case 'retry_quarantined': {
      const before = data.quarantine.length
      data.quarantine = data.quarantine.filter((q) => q.case_id !== args.case_id)
      data.sync.quarantined = data.quarantine.length
      return before - data.quarantine.length
    }
    case 'hub_offices':
      return structuredClone(data.offices)
    case 'render_document':
      return renderDocument(String(args.id), String(args.kind), Boolean(args.issue))
    default:
      fail('ipc', `mock: unknown command ${cmd}`)
  }
}

export function installMock(): void {
  // The arguments go through JSON as they do to the real shell: a form's reactive arrays arrive
  // as plain data (and can be kept and cloned).
  mockIPC((cmd, payload) => handle(cmd, JSON.parse(JSON.stringify(payload ?? {})) as Args), { shouldMockEvents: true })
}

/** For unit tests: a fresh data set; `flags` as the page's address would give them (`locked`, `setup`, …). */
export function resetMock(flags = ''): void {
  appState = startState(new URLSearchParams(flags))
  data = buildMockData(today())
  rules = initialRules(true, true)
  picks = new Map()
}
