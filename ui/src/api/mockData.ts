// The in-memory data set of the IPC mock (only loaded when VITE_MOCK_IPC=1): a county bureau
// with a few hand-made cases in every interesting state and a seeded year and a half of
// ordinary ones, so the tables, paging and charts have something to show.
import type {
  AppState,
  AttachmentRef,
  Case,
  CaseEvent,
  Identity,
  OfficeConfig,
  QuarantinedChange,
  RulesView,
  Submission,
  SyncStatus,
  Vocabularies,
} from './generated/bindings'
import type { OfficeHealth } from './uiTypes'
import vocabularies from './fixtures/vocabularies.json'
import rulesView from './fixtures/rules_view.json'

// Recorded from the real shell (src-tauri/src/fixtures.rs): the mock keeps no vocabulary of
// its own, so a code or label changed in Rust reaches the mock's pages as it reaches the app's.
export const VOCABULARIES: Vocabularies = vocabularies

export const OFFICE: OfficeConfig = {
  code: 'county',
  name: '洞口县国土资源局',
  role: 'bureau',
  townships: ['黄桥镇', '高沙镇', '竹市镇', '石江镇', '山门镇', '醪田镇', '花园镇', '江口镇'],
  staff: ['李娟', '刘洪', '王敏'],
  number_prefix: '洞口',
  device: 'A',
}

/**
 * 全县规则 as the real office's `rules_view` gives them before the county changed anything
 * (recorded: src-tauri/src/fixtures.rs), with the two flags the shell decides by the office's
 * role and link.
 */
export function initialRules(editable: boolean, received: boolean): RulesView {
  return { ...structuredClone(rulesView as unknown as RulesView), editable, received }
}

/** The 台账口令 that opens the mock's locked store (`?locked`). */
export const MOCK_PASSPHRASE = '测试台账口令-2026'
/** The recovery passphrase the mock's set-up and enrollment make. */
export const MOCK_RECOVERY = 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ23'

export function initialAppState(): AppState {
  return {
    ready: true,
    office: structuredClone(OFFICE),
    hub: 'https://county-hub:8750',
    hub_warning: null,
    locked: false,
    // No system keyring, as on most county computers: set-up asks for a 台账口令.
    keyring: false,
    recovery: null,
    data_dir: '/home/guotu/.local/share/ledger',
    demo: true,
    demo_cases: 1,
    version: '0.1.0',
  }
}

/** A case of the mock with what the real store derives: status, identity, conflicts, anomalies. */
export interface MockCase {
  case: Case
  identity: Identity | null
  status: string
  conflicts: { field: string; values: string[] }[]
  anomalies: { event_id: string; action: string; reason: string }[]
  handed_over: boolean
  pending_upload: number
  documents: { kind: string; number: string; issued: string; event_id: string; office: string }[]
}

// mulberry32: a small seeded generator, so every run of the mock shows the same cases.
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a |= 0
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

export function addDays(iso: string, days: number): string {
  const [y, m, d] = iso.split('-').map(Number)
  const date = new Date(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days)
  return isoDay(date)
}

export function maskName(name: string): string {
  if (name.length <= 1) return name
  if (name.length === 2) return `${name[0]}*`
  return `${name[0]}${'*'.repeat(name.length - 2)}${name[name.length - 1]}`
}

const SURNAMES = ['张', '王', '李', '刘', '陈', '杨', '黄', '赵', '周', '吴', '曾', '邓', '谢', '肖', '尹', '罗']
const GIVEN = ['建国', '秀英', '志强', '桂兰', '德明', '春花', '光辉', '玉梅', '海波', '三丰', '正华', '小红', '长生', '美玲']
const VILLAGES = ['大屋村', '金塘村', '白竹村', '岩门村', '杉木村', '新田村', '荷叶村', '石桥村', '双江村', '枫林村']
const REQUESTS: Record<string, string[]> = {
  illegal_occupation: [
    '邻居在承包地上违法建房，请求依法查处',
    '有人占用基本农田建设厂房，请求制止并拆除',
    '村道旁耕地被占用修建门面，请求调查处理',
  ],
  illegal_transfer: ['村组干部私下出租集体土地，请求查处', '有人将宅基地私下转卖给外村人，请求依法处理'],
  enquiry_certificate: ['咨询宅基地确权登记办证流程', '申请办理不动产权证，询问所需材料'],
  mining_right: ['河道采砂影响农田灌溉，请求查处', '采石场越界开采，请求核查采矿范围'],
  dispute: ['与邻居山林界址不清，请求调处', '承包地边界纠纷，请求国土所现场勘界'],
  other: ['反映征地补偿款发放不透明，请求公开'],
}
const CATEGORY_SECTOR: Record<string, string> = {
  illegal_occupation: 'land',
  illegal_transfer: 'land',
  enquiry_certificate: 'land',
  mining_right: 'mineral',
  dispute: 'land',
  other: 'other',
}
// Weights follow the 2017 county summary: mostly illegal occupation, then certificates.
const CATEGORY_WEIGHTS: [string, number][] = [
  ['illegal_occupation', 60],
  ['enquiry_certificate', 12],
  ['illegal_transfer', 6],
  ['dispute', 8],
  ['mining_right', 4],
  ['other', 3],
]
const SOURCE_WEIGHTS: [string, number][] = [
  ['direct', 38],
  ['provincial_bureau', 10],
  ['city_bureau', 10],
  ['county_department', 11],
  ['report_12336', 16],
  ['online_opinion', 9],
  ['city_land_bureau', 6],
]

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T
}

function weighted(r: () => number, list: [string, number][]): string {
  const total = list.reduce((s, [, w]) => s + w, 0)
  let x = r() * total
  for (const [v, w] of list) {
    x -= w
    if (x < 0) return v
  }
  return list[0]?.[0] ?? ''
}

let idSeq = 0
export function mintId(): string {
  idSeq += 1
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0')
  return `${hex(0x5a1e0000 + idSeq, 8)}-0000-4000-8000-${hex(idSeq * 7919, 12)}`
}

const numberSeq: Record<string, number> = {}
export function mintNumber(year: string): string {
  numberSeq[year] = (numberSeq[year] ?? 0) + 1
  return `${OFFICE.number_prefix}-${year}-A-${pad(numberSeq[year] ?? 1, 4)}`
}

function at(date: string, hour = 10): number {
  const [y, m, d] = date.split('-').map(Number)
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1, hour, 0, 0).getTime()
}

let lamport = 0
export function makeEvent(
  action: string,
  date: string,
  handler: string,
  extra: Partial<CaseEvent> = {},
  office = 'county',
): CaseEvent {
  lamport += 1
  return {
    id: mintId(),
    lamport,
    action,
    actor: office === 'county' ? 'a1b2c3' : 'd4e5f6',
    office,
    role: office === 'county' ? 'bureau' : 'township',
    handler,
    at: at(date, 9 + (lamport % 8)),
    date,
    imported: false,
    target: null,
    due: null,
    text: null,
    satisfaction: null,
    close_reason: null,
    outcome: null,
    document_kind: null,
    document_number: null,
    field: null,
    review_outcome: null,
    track: null,
    ...extra,
  }
}

interface Seed {
  received: string
  channel: string
  source: string
  category: string
  township: string | null
  village: string
  names: string[]
  request: string
  persons?: number
  batches?: number
  skip_level?: boolean
  repeat?: boolean
  confidential?: boolean
  subject?: string
  purpose?: string
}

function idNumber(r: () => number): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const check = '10X98765432'
  const year = 1950 + Math.floor(r() * 50)
  const body = `430525${year}${pad(1 + Math.floor(r() * 12))}${pad(1 + Math.floor(r() * 28))}${pad(Math.floor(r() * 1000), 3)}`
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(body[i]) * (weights[i] ?? 0)
  return body + check[sum % 11]
}

function buildCase(seed: Seed, r: () => number): MockCase {
  const id = mintId()
  const year = seed.received.slice(0, 4)
  const isReport = seed.source === 'report_12336'
  const petitionerIds = seed.names.map(() => mintId())
  const submission: Submission = {
    id: mintId(),
    channel: seed.channel,
    source: seed.source,
    received: seed.received,
    batches: seed.channel === 'visit' ? (seed.batches ?? 1) : 0,
    persons: seed.persons ?? Math.max(1, seed.names.length),
    collective: (seed.persons ?? 1) >= 5,
    skip_level: seed.skip_level ?? false,
    repeat: seed.repeat ?? false,
    anonymous: seed.names.length === 0,
    confidential: seed.confidential ?? isReport,
    petitioners: petitionerIds,
    summary: '',
    registered_by: 'county',
    fingerprint: null,
    referred_by: null,
    referral_number: null,
  }
  const c: Case = {
    id,
    schema_version: 1,
    demo: true,
    identity_released: false,
    restrictive_values: false,
    number: mintNumber(year),
    official_number: null,
    registered_by: 'county',
    purpose: seed.purpose ?? (isReport ? 'report' : seed.category === 'enquiry_certificate' ? 'enquiry' : 'appeal'),
    sector: CATEGORY_SECTOR[seed.category] ?? 'land',
    category: seed.category,
    jurisdiction: seed.township,
    subject: seed.subject ?? '',
    request: seed.request,
    village: seed.village,
    confidential: seed.confidential ?? isReport,
    petitioners: seed.names.map((name, i) => ({
      id: petitionerIds[i] ?? mintId(),
      kind: 'citizen',
      display_name: maskName(name),
    })),
    submissions: [submission],
    events: [makeEvent('register', seed.received, pick(r, OFFICE.staff))],
    attachments: [],
    reply_draft: '',
    investigation_report: '',
  }
  const identity: Identity = {
    case_id: id,
    schema_version: 1,
    persons: seed.names.map((name, i) => ({
      id: petitionerIds[i] ?? mintId(),
      name,
      id_type: 'resident_id',
      id_number: idNumber(r),
      phone: `13${Math.floor(100000000 + r() * 899999999)}`,
      address: `洞口县${seed.township ?? '黄桥镇'}${seed.village}`,
    })),
  }
  return {
    case: c,
    identity: seed.names.length > 0 ? identity : null,
    status: 'registered',
    conflicts: [],
    anomalies: [],
    handed_over: false,
    pending_upload: 0,
    documents: [],
  }
}

/** Moves a case along its usual path up to `steps` actions, dated after its receipt. */
function advance(m: MockCase, steps: number, r: () => number, today: string): void {
  const path = ['accept', 'assign', 'investigate', 'reply', 'evaluate', 'close']
  let date = m.case.submissions[0]?.received ?? today
  for (const action of path.slice(0, steps)) {
    const next = addDays(date, 2 + Math.floor(r() * 12))
    if (next > today) break
    date = next
    const handler = pick(r, OFFICE.staff)
    const township = m.case.jurisdiction ?? pick(r, OFFICE.townships)
    switch (action) {
      case 'accept':
        m.case.events.push(makeEvent('accept', date, handler))
        m.case.official_number = `洞国土信〔${date.slice(0, 4)}〕${10 + Math.floor(r() * 300)}号`
        m.status = 'accepted'
        break
      case 'assign':
        m.case.jurisdiction = township
        m.case.events.push(makeEvent('assign', date, handler, { target: township, due: addDays(date, 30) }))
        m.status = 'assigned'
        break
      case 'investigate':
        m.case.events.push(
          makeEvent('investigate', date, '尹志强', { text: '已到现场核实，情况基本属实。' }, 'hq'),
        )
        m.status = 'in_progress'
        break
      case 'reply':
        m.case.events.push(
          makeEvent(
            'reply',
            date,
            '尹志强',
            { text: '经调查核实，已责令当事人停止违法行为并依法处理。', outcome: 'supported' },
            'hq',
          ),
        )
        m.status = 'replied'
        break
      case 'evaluate':
        m.case.events.push(
          makeEvent('evaluate', date, handler, { satisfaction: r() < 0.8 ? 'satisfied' : 'basically_satisfied' }),
        )
        break
      case 'close':
        m.case.events.push(makeEvent('close', date, handler, { close_reason: 'replied' }))
        m.status = 'closed'
        break
    }
  }
}

function person(r: () => number): string {
  return pick(r, SURNAMES) + pick(r, GIVEN)
}

export interface MockData {
  cases: MockCase[]
  sync: SyncStatus
  quarantine: QuarantinedChange[]
  offices: OfficeHealth[]
}

export function buildMockData(today: string): MockData {
  const r = rng(20171231)
  const cases: MockCase[] = []
  const thisYear = Number(today.slice(0, 4))

  // The hand-made cases first: one per state worth seeing.
  const fresh = buildCase(
    {
      received: addDays(today, -2),
      channel: 'visit',
      source: 'direct',
      category: 'illegal_occupation',
      township: null,
      village: '大屋村',
      names: ['张三丰', '张桂兰'],
      persons: 2,
      batches: 1,
      request: '邻居在承包地上违法建房，请求依法查处',
      subject: '同组村民张某',
    },
    r,
  )
  cases.push(fresh)

  const overdue = buildCase(
    {
      received: addDays(today, -40),
      channel: 'letter',
      source: 'city_bureau',
      category: 'illegal_transfer',
      township: '高沙镇',
      village: '金塘村',
      names: ['王德明'],
      request: '村组干部私下出租集体土地建砖厂，请求查处并公开租金去向',
    },
    r,
  )
  overdue.case.events.push(makeEvent('accept', addDays(today, -36), '李娟'))
  overdue.case.events.push(
    makeEvent('assign', addDays(today, -35), '李娟', { target: '高沙镇', due: addDays(today, -5) }),
  )
  overdue.status = 'assigned'
  overdue.case.official_number = `洞国土信〔${thisYear}〕118号`
  cases.push(overdue)

  const progress = buildCase(
    {
      received: addDays(today, -20),
      channel: 'phone',
      source: 'report_12336',
      category: 'illegal_occupation',
      township: '黄桥镇',
      village: '白竹村',
      names: ['刘光辉'],
      request: '白竹村有人占用基本农田建设厂房，请求制止并拆除',
      confidential: true,
    },
    r,
  )
  progress.case.events.push(makeEvent('accept', addDays(today, -18), '刘洪'))
  progress.case.events.push(makeEvent('assign', addDays(today, -17), '刘洪', { target: '黄桥镇', due: addDays(today, 2) }))
  progress.case.events.push(
    makeEvent('investigate', addDays(today, -10), '尹志强', { text: '已到现场核实，厂房约300平方米，已下达停工通知。' }, 'hq'),
  )
  progress.case.reply_draft = '经调查核实，你反映的白竹村占用基本农田建设厂房问题属实。'
  progress.case.attachments.push({
    hash: 'b3f1c2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1',
    name: '现场照片.jpg',
    size: 482_133,
    mime: 'image/jpeg',
    added_at: at(addDays(today, -10), 15),
    added_by: '尹志强',
  } satisfies AttachmentRef)
  progress.status = 'in_progress'
  progress.case.official_number = `洞国土信〔${thisYear}〕131号`
  // Two offices set the category at the same time: the user has to choose.
  progress.conflicts.push({ field: 'category', values: ['illegal_occupation', 'illegal_transfer'] })
  progress.pending_upload = 2
  cases.push(progress)

  const replied = buildCase(
    {
      received: addDays(today, -70),
      channel: 'visit',
      source: 'direct',
      category: 'dispute',
      township: '竹市镇',
      village: '岩门村',
      names: ['陈玉梅', '陈长生', '陈海波', '陈正华', '陈小红', '陈美玲'],
      persons: 6,
      batches: 1,
      skip_level: true,
      request: '与邻村山林界址不清，多次协商未果，请求国土所现场勘界调处',
    },
    r,
  )
  replied.case.events.push(makeEvent('accept', addDays(today, -68), '李娟'))
  replied.case.events.push(makeEvent('assign', addDays(today, -67), '李娟', { target: '竹市镇', due: addDays(today, -20) }))
  replied.case.events.push(makeEvent('mediate', addDays(today, -40), '周海波', { text: '组织双方现场调解，初步达成一致。' }, 'zs'))
  const lateReply = makeEvent(
    'reply',
    addDays(today, -12),
    '周海波',
    { text: '经现场勘界，界址以1998年林权证附图为准，已告知双方。', outcome: 'explained' },
    'zs',
  )
  replied.case.events.push(lateReply)
  replied.anomalies.push({
    event_id: lateReply.id,
    action: 'reply',
    reason: '答复时案件已被县局改派，需县局核实后确认',
  })
  replied.case.submissions.push({
    ...(replied.case.submissions[0] as Submission),
    id: mintId(),
    received: addDays(today, -30),
    channel: 'letter',
    batches: 0,
    persons: 1,
    collective: false,
    skip_level: false,
    repeat: true,
  })
  replied.status = 'replied'
  replied.documents.push({
    kind: 'acceptance_notice',
    number: `洞国土信受〔${thisYear}〕57号`,
    issued: addDays(today, -68),
    event_id: mintId(),
    office: 'county',
  })
  cases.push(replied)

  const handedOver = buildCase(
    {
      received: addDays(today, -25),
      channel: 'online',
      source: 'online_opinion',
      category: 'mining_right',
      township: '山门镇',
      village: '杉木村',
      names: ['肖建国'],
      request: '河道采砂影响农田灌溉，请求查处',
    },
    r,
  )
  handedOver.case.events.push(makeEvent('accept', addDays(today, -23), '王敏'))
  handedOver.case.events.push(makeEvent('assign', addDays(today, -22), '王敏', { target: '山门镇' }))
  handedOver.status = 'assigned'
  handedOver.handed_over = true
  cases.push(handedOver)

  // An ordinary caseload over last year and this year, for the tables and charts.
  const start = `${thisYear - 1}-01-05`
  const span = Math.max(1, Math.round((new Date(today).getTime() - new Date(start).getTime()) / 86_400_000) - 3)
  for (let i = 0; i < 90; i++) {
    const received = addDays(start, Math.floor(r() * span))
    const category = weighted(r, CATEGORY_WEIGHTS)
    const source = weighted(r, SOURCE_WEIGHTS)
    const channel =
      source === 'direct' ? (r() < 0.8 ? 'visit' : 'letter') : source === 'report_12336' ? 'phone' : pick(r, ['letter', 'online'])
    const persons = channel === 'visit' ? (r() < 0.12 ? 5 + Math.floor(r() * 4) : 1 + Math.floor(r() * 3)) : 1
    const m = buildCase(
      {
        received,
        channel,
        source,
        category,
        township: r() < 0.85 ? pick(r, OFFICE.townships) : null,
        village: pick(r, VILLAGES),
        names: [person(r)],
        persons,
        batches: 1,
        skip_level: r() < 0.05,
        repeat: r() < 0.08,
        request: pick(r, REQUESTS[category] ?? REQUESTS.other ?? ['']),
      },
      r,
    )
    const age = Math.round((new Date(today).getTime() - new Date(received).getTime()) / 86_400_000)
    advance(m, age > 90 ? 6 : age > 30 ? 3 + Math.floor(r() * 3) : Math.floor(r() * 3), r, today)
    cases.push(m)
  }
  // Newest first, as the ledger lists them.
  cases.sort((a, b) => ((a.case.submissions[0]?.received ?? '') < (b.case.submissions[0]?.received ?? '') ? 1 : -1))

  return {
    cases,
    sync: {
      last_success: Date.now() - 25 * 60_000,
      last_attempt: Date.now() - 60_000,
      pending: 3,
      quarantined: 1,
      last_error: 'offline',
      last_error_detail: 'connect: connection refused (county-hub:8750)',
      clock_skew_ms: 4 * 60_000,
      online: false,
      syncing: false,
      pass_downloaded: 0,
      pass_uploaded: 0,
      state: 'offline',
    },
    quarantine: [
      {
        case_id: handedOver.case.id,
        hash: '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
        error: '案件已改派至其他乡镇，本机无权修改所属乡镇',
        created_at: Date.now() - 3 * 3_600_000,
      },
    ],
    offices: [
      { office: 'county', name: '洞口县国土资源局', role: 'bureau', townships: [], last_sync: Date.now() - 25 * 60_000, pending: 3, last_error: null, clock_skew_ms: 1_200 },
      { office: 'hq', name: '黄桥镇国土所', role: 'township', townships: ['黄桥镇'], last_sync: Date.now() - 2 * 3_600_000, pending: 0, last_error: null, clock_skew_ms: -800 },
      { office: 'gs', name: '高沙镇国土所', role: 'township', townships: ['高沙镇'], last_sync: Date.now() - 3 * 86_400_000, pending: 12, last_error: 'offline', clock_skew_ms: null },
      { office: 'zs', name: '竹市镇国土所', role: 'township', townships: ['竹市镇'], last_sync: Date.now() - 50 * 60_000, pending: 1, last_error: null, clock_skew_ms: 6 * 60_000 },
      { office: 'sm', name: '山门镇国土所', role: 'township', townships: ['山门镇'], last_sync: null, pending: 0, last_error: 'unauthorized', clock_skew_ms: null },
    ],
  }
}
