// The IPC contract between the Vue UI and the Tauri shell (src-tauri/src/commands/*.rs).
// Field names are exactly what the Rust side serialises (serde); codes are stable snake_case,
// Chinese labels come from `vocabularies()`.

export interface CodeLabel {
  code: string
  label: string
}

/** Every coded vocabulary, codes in report order. */
export interface Vocabularies {
  channel: CodeLabel[]
  source: CodeLabel[]
  purpose: CodeLabel[]
  sector: CodeLabel[]
  category: CodeLabel[]
  /** The category codes a clerk may choose under each 涉及领域 code. */
  category_by_sector?: Record<string, string[]>
  /** The 信访来源 codes that are referrals (a 来文机关 and 文号 are asked for). */
  referral_sources?: string[]
  status: CodeLabel[]
  action: CodeLabel[]
  satisfaction: CodeLabel[]
  close_reason: CodeLabel[]
  document_kind: CodeLabel[]
  /** The document kinds an office issues itself (the review opinions are only served). */
  issued_documents?: string[]
  deadline_kind: CodeLabel[]
  case_field: CodeLabel[]
  role: CodeLabel[]
  /** 复查/复核结论 (a reviewing body's conclusion). */
  review_outcome?: CodeLabel[]
  /** 办理程序 (handling tracks). */
  handling_track?: CodeLabel[]
  /** 处理意见 (reply outcome). UI addition, optional: when absent the UI uses its own list. */
  outcome?: CodeLabel[]
}

export interface OfficeConfig {
  code: string
  name: string
  role: 'township' | 'bureau'
  townships: string[]
  staff: string[]
  number_prefix: string
  device: string
}

/** One version of the deadline policy (期限规则), as `rules_view` gives it. */
export interface RulePolicy {
  id: string
  /** 规则名称 (the instrument the version follows). */
  name: string
  /** The first day of receipt it applies to (YYYY-MM-DD). */
  effective_from: string
  /** 受理告知期限. */
  decide_days: number
  /** Whether `decide_days` counts working days. */
  decide_working: boolean
  /** 异议退回期限 (working days). */
  objection_working_days: number
  /** 办理期限. */
  handle_days: number
  /** 延期上限. */
  extension_max_days: number
  /** 复查（复核）申请期限. */
  review_request_days: number
  /** 复查（复核）期限. */
  review_days: number
  /** 集体访人数. */
  collective_threshold: number
  /** 停访息诉观察期. */
  settled_window_days: number
  /** The version for matters received today. */
  in_force: boolean
}

/** The county's document settings in force today. */
export interface RuleCountySettings {
  /** 复查机关; null: not set (documents say 「本机关的上一级行政机关」). */
  review_body: string | null
  /** A township office issues documents in its own name (else the bureau issues them). */
  issues_own_documents: boolean
  /** 复查机关 of what a township issues in its own name; null: not set. */
  township_review_body: string | null
}

/** The legal basis (法律依据) of one category, in force today. */
export interface RuleBasis {
  /** The category's code. */
  category: string
  /** Its Chinese label. */
  label: string
  /** The law and article cited; '' = none. */
  basis: string
  /** Set by the county (else the built-in table). */
  county: boolean
}

/** One recorded change of the county's rules (变更记录). */
export interface RuleEntry {
  /** The item's code (`policy.decide_days`, `county.review_body`, `basis.dispute`, `holidays.2027` …). */
  item: string
  /** What it is, in Chinese. */
  label: string
  /** The value as text (a holiday schedule: its lines). */
  value: string
  /** 生效日期 (YYYY-MM-DD). */
  from: string
  /** When it was recorded (ms). */
  recorded_at: number
  handler: string
  /** 依据 (the notice or instrument), may be ''. */
  note: string
}

/** An item the bureau may set, for the editor. */
export interface RuleItem {
  item: string
  label: string
  /** `true`/`false` for a flag. (`holidays.<year>` items are not listed: any year may be set.) */
  value_kind: 'number' | 'flag' | 'text' | 'holidays'
}

/** 全县规则 as this office holds them (`rules_view`, and what `set_rule` returns). */
export interface RulesView {
  /** The rules document has arrived from the hub (else the built-in rules of this version). */
  received: boolean
  /** This office is the bureau and may change the rules. */
  editable: boolean
  /** The policy versions, oldest first. */
  policies: RulePolicy[]
  /** The first and last day the holiday table covers (YYYY-MM-DD). */
  calendar_from: string
  calendar_to: string
  county: RuleCountySettings
  legal_basis: RuleBasis[]
  /** Every change recorded, newest first. */
  entries: RuleEntry[]
  items: RuleItem[]
}

export interface AppState {
  /** Whether this machine has a store (enrolled or set up locally). */
  ready: boolean
  office: OfficeConfig | null
  hub: string | null
  /**
   * A standing warning about the link to the hub, as a code with a sentence in the i18n files
   * (`syncErrors.<code>`): `plain_http` (not encrypted). null: nothing to warn about.
   */
  hub_warning: string | null
  /**
   * A store is here but waits for its passphrase (台账口令, or the recovery passphrase): the app
   * shows the unlock screen and nothing else until `unlock` opens it.
   */
  locked: boolean
  /**
   * Whether the system keyring (Secret Service) can hold the store's key. When false, set-up
   * asks for a 台账口令 (at least 8 characters) to protect it; when true none is asked.
   */
  keyring: boolean
  /**
   * A recovery passphrase (恢复口令, `7K2M-Q9DX-…`) made just now for this store, to show once,
   * until `recovery_shown`. null: nothing to show.
   */
  recovery: string | null
  data_dir: string
  /** The store holds demo cases (show a banner; they can be removed in 设置). */
  demo: boolean
  /** How many demo cases it holds. */
  demo_cases?: number
  version: string
}

/** A township a case may go to, with the offices enrolled for it (from the county directory). */
export interface TownshipChoice {
  name: string
  /** Names of the offices answering for it; empty when none is enrolled. */
  offices: string[]
}

/** What 清除演示数据 did. */
export interface DemoRemoved {
  removed: {
    /** Demo cases removed (deleted here, or marked for the hub to purge). */
    cases: number
    /** The hub still has to purge them; they go from the townships after it has. */
    awaiting_hub: boolean
  }
  state: AppState
}

/** Every error a command returns. `fields` is set for invalid input: show each next to its field. */
export interface CommandError {
  code: string
  message: string
  fields?: FieldError[]
}

export interface FieldError {
  /** The input key: `received`, `petitioners[0].id_number`, ... */
  field: string
  label: string
  message: string
}

export interface CaseRow {
  id: string
  number: string
  status: string
  township: string | null
  category: string
  sector: string
  purpose: string
  source: string | null
  channel: string | null
  received: string | null
  names: string
  village: string
  next_due: string | null
  next_due_kind: string | null
  anomalies: number
  conflicts: number
  handed_over: boolean
  registered_by: string
  /** 演示数据. */
  demo?: boolean
}

export interface Page {
  /** Matches in all; a text search counts at most 10,000. */
  total: number
  /** A text search found more than 10,000 and stopped counting (shown as 「1万+」). */
  capped?: boolean
  rows: CaseRow[]
}

export interface CaseQuery {
  status?: string
  township?: string
  category?: string
  source?: string
  received_from?: string
  received_to?: string
  text?: string
  overdue?: boolean
  limit?: number
  offset?: number
}

export interface NewPetitioner {
  name: string
  kind?: string
  id_type?: string
  id_number?: string
  phone?: string
  address?: string
}

/** The register form. Values may be codes or labels. */
export interface NewCase {
  received: string | null
  channel: string
  source: string
  persons?: number
  batches?: number
  collective?: boolean
  skip_level?: boolean
  repeat?: boolean
  anonymous?: boolean
  confidential?: boolean
  summary?: string
  /** 来文机关 (the referring body's full name), for a referral. */
  referred_by?: string
  /** 来文文号, for a referral. */
  referral_number?: string
  purpose?: string
  sector: string
  category: string
  township?: string
  subject?: string
  request: string
  village?: string
  petitioners: NewPetitioner[]
}

export interface PetitionerRef {
  id: string
  kind: string
  display_name: string
}

export interface Submission {
  id: string
  channel: string
  source: string
  received: string
  batches: number
  persons: number
  collective: boolean
  skip_level: boolean
  repeat: boolean
  anonymous: boolean
  confidential: boolean
  petitioners: string[]
  summary: string
  registered_by: string
  fingerprint: string | null
}

export interface CaseEvent {
  id: string
  lamport: number
  action: string
  actor: string
  office: string
  role: string
  handler: string
  /** Device time, ms since the epoch. */
  at: number
  date: string
  imported: boolean
  target: string | null
  due: string | null
  text: string | null
  satisfaction: string | null
  close_reason: string | null
  outcome: string | null
  document_kind: string | null
  document_number: string | null
  field: string | null
}

export interface AttachmentRef {
  hash: string
  name: string
  size: number
  mime: string
  added_at: number
  added_by: string
}

export interface Case {
  id: string
  schema_version: number
  /** 演示数据: created with the demo data set; only such a case can be removed. */
  demo?: boolean
  number: string
  official_number: string | null
  registered_by: string
  purpose: string
  sector: string
  category: string
  jurisdiction: string | null
  subject: string
  request: string
  village: string
  confidential: boolean
  /** 解除保密: the bureau lifted the identity restriction. */
  identity_released: boolean
  /** A losing concurrent value of 信访目的 or 是否保密 restricts the identity. */
  restrictive_values: boolean
  petitioners: PetitionerRef[]
  submissions: Submission[]
  events: CaseEvent[]
  attachments: AttachmentRef[]
  reply_draft: string
  investigation_report: string
}

export interface Person {
  id: string
  name: string
  id_type: string
  id_number: string
  phone: string
  address: string
}

export interface Identity {
  case_id: string
  schema_version: number
  persons: Person[]
}

export interface Deadline {
  kind: string
  start: string
  due: string
  met_on: string | null
  days_left: number
  overdue: boolean
  late: boolean
  informational: boolean
  /** Reckoned past the holiday table (预计): may move once the table is updated. */
  estimated: boolean
}

export interface CaseView {
  case: Case
  identity: Identity | null
  /** The petitioners' names as this office may show them: full where the identity is here. */
  names: string[]
  /** The name of every office the case mentions, by code. */
  office_names?: Record<string, string>
  status: string
  anomalies: { event_id: string; action: string; reason: string }[]
  deadlines: { items: Deadline[]; problems: { kind: string; message: string }[] }
  conflicts: { field: string; values: string[] }[]
  allowed_actions: string[]
  handed_over: boolean
  documents: { kind: string; number: string; issued: string; event_id: string; office: string }[]
  evaluations: { result: string; date: string; comment: string; event_id: string }[]
  pending_upload: number
  /** Whether the petitioners' identity goes to the bureau only (检举控告, confidential). */
  identity_restricted: boolean
  /** Changes to this case the hub refused, with its reasons. */
  refused: QuarantinedChange[]
  /** Identities typed here waiting to be delivered to the bureau (not kept here). */
  identities_to_deliver: number
  /** 办理程序 the matter is handled on (older shells: absent). */
  track?: string
  /** The track its 信访目的 proposes, for the decision on acceptance. */
  proposed_track?: string
  /** The documents this office can print for the case now (Rust's check; 复查意见书 only where
   *  this office is the recorded reviewing body). */
  printable?: string[]
}

/** What recovering refused changes did (`recover_refused`). */
export interface RecoveryReport {
  cases: number
  redone: string[]
  unrecoverable: string[]
}

export interface ActionInput {
  action: string
  target?: string
  due?: string
  text?: string
  result?: string
  reason?: string
  outcome?: string
  /** 送达日期, for 送达. */
  date?: string
  /** 复查/复核结论, for 复查意见 and 复核意见. */
  review_outcome?: string
  /** 办理程序, for 受理 and 交办 as the decision. */
  track?: string
  handler?: string
}

export interface DueList {
  today: string
  overdue: CaseRow[]
  within_3: CaseRow[]
  within_10: CaseRow[]
}

export interface Rate {
  numerator: number
  denominator: number
  value: number | null
  /** 待判定: not yet judgeable (still within its time limit); in neither part. */
  pending?: number
  /** 无法判定: no record to judge by (imported history); in neither part. */
  unknown?: number
}

export interface Statistics {
  period: { from: string; to: string }
  township: string | null
  as_of: string
  total: number
  cases: number
  by_source: Record<string, number>
  by_channel: Record<string, number>
  by_domain: Record<string, number>
  by_category: Record<string, number>
  by_source_channel: Record<string, Record<string, number>>
  visits: { batches: number; persons: number }
  flags: { collective: number; skip_level: number; repeat: number }
  rates: Record<string, Rate>
}

/** The statistics screen's data: a year, the year before, and each month of the year. */
export interface YearReport {
  year: Statistics
  previous: Statistics
  months: Statistics[]
}

export interface SyncStatus {
  last_success: number | null
  last_attempt: number | null
  pending: number
  quarantined: number
  /** A code: offline, timeout, unauthorized, refused, too_large, unsupported_version, tls_untrusted, ... */
  last_error: string | null
  last_error_detail: string | null
  clock_skew_ms: number | null
  online: boolean
  syncing: boolean
  /** Records received so far in the running sync (the first sync's progress). */
  pass_downloaded?: number
  /** What the header shows, as the shell decided it. */
  state?: 'first_sync' | 'syncing' | 'offline' | 'failed' | 'pending' | 'synced'
}

export interface QuarantinedChange {
  case_id: string
  hash: string
  error: string
  created_at: number
}

export interface SyncReport {
  rounds: number
  uploaded: number
  downloaded: number
  refused: number
  retries: number
}

export interface ImportReport {
  rows: number
  cases: number
  added_submissions: number
  duplicates: number
  invalid: string[]
  unknown_columns: string[]
  /** The bureau's steps a township's import left out (the bureau records its own decisions). */
  bureau_steps_left_out: number
  /** Nothing was written: this is what the import would do. */
  dry_run: boolean
  /** Rows matching a case here only by 案件编号, and what became (or would become) of each. */
  number_matches: string[]
  /** New cases whose 案件编号 this store already uses, given a number of their own. */
  renumbered: string[]
}

/** What a file dialog is for (`pick_files`): the shell chooses the dialog, its filter and how many. */
export type PickPurpose = 'open_ledger' | 'attachments' | 'save_ledger' | 'save_statistics'

/** The words of a file dialog, from the UI's translations. */
export interface DialogText {
  title: string
  /** The name of the file-type filter ('' for attachments: any file). */
  filter: string
  /** A suggested file name for a save dialog; '' when none. */
  default_name: string
}

/**
 * A file the user chose in a dialog the shell opened. The path stays in the shell: later
 * commands take `handle`; `name` is the file's name, to show.
 */
export interface Picked {
  handle: string
  name: string
}

/** One office's sync health at the hub (bureau only). */
export interface OfficeHealth {
  office: string
  name: string
  role: string
  townships: string[]
  last_sync: number | null
  pending: number
  last_error: string | null
  clock_skew_ms: number | null
}

/** Events the shell emits. */
export interface Events {
  /** A case changed here or arrived by sync; `null` means many. */
  'store-changed': { case_id: string | null }
  'sync-status': SyncStatus
  /** `encrypt`: an old plain store being encrypted as it opens (at start or on `unlock`). */
  'progress': { task: 'import' | 'export' | 'sync' | 'reindex' | 'encrypt'; done: number; total: number }
}
