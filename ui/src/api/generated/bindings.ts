// Generated from the Rust types by `src-tauri/src/bindings.rs` (ts-rs). Do not edit:
// change the Rust type, then `UPDATE_BINDINGS=1 cargo test -p ledger-desktop bindings`.
/* eslint-disable */

/**
 * An action as the UI sends it: codes or labels.
 */
export type ActionInput = { action: string, target?: string, due?: string, text?: string, result?: string, reason?: string, outcome?: string, 
/**
 * 送达日期, for 送达.
 */
date?: string, 
/**
 * 文书类别, for 送达 (the reply's when absent).
 */
document_kind?: string, 
/**
 * 复查/复核结论, for 复查意见 and 复核意见.
 */
review_outcome?: string, 
/**
 * 办理程序, for 受理 and 交办 (proposed from the 信访目的 when absent).
 */
track?: string, handler?: string, 
/**
 * 督办单, for 督办反馈: the 督办 event's id.
 */
refers?: string, 
/**
 * 回访方式, for 回访.
 */
method?: string, 
/**
 * 无法回访, for 回访.
 */
unreachable?: boolean, };

/**
 * ActionKind: `register` 登记、`accept` 受理、`not_accept` 不予受理、`no_further` 不再受理、`forward` 转送、`assign` 交办、`reassign` 改派、`object` 异议退回、`notify` 告知、`investigate` 调查核实、`hearing` 听证、`mediate` 调解、`extend` 延期、`reply` 答复、`review` 复查、`review_opinion` 复查意见、`recheck_request` 复核、`recheck_opinion` 复核意见、`deliver` 送达、`supervise` 督办、`supervise_report` 督办反馈、`chase` 催办、`report_up` 紧急上报、`follow_up` 回访、`evaluate` 评价、`close` 办结、`void` 作废、`issue_document` 出具文书、`resolve_conflict` 冲突处理、`lift_restriction` 解除保密、`remove_demo` 清除演示数据; or a newer version's code.
 */
export type ActionKind = "register" | "accept" | "not_accept" | "no_further" | "forward" | "assign" | "reassign" | "object" | "notify" | "investigate" | "hearing" | "mediate" | "extend" | "reply" | "review" | "review_opinion" | "recheck_request" | "recheck_opinion" | "deliver" | "supervise" | "supervise_report" | "chase" | "report_up" | "follow_up" | "evaluate" | "close" | "void" | "issue_document" | "resolve_conflict" | "lift_restriction" | "remove_demo" | (string & {});

/**
 * An event that is invalid where it falls in the merged log: kept, flagged for review.
 */
export type Anomaly = { 
/**
 * The event.
 */
event_id: string, 
/**
 * Its action.
 */
action: ActionKind, 
/**
 * Why it does not fit, in Chinese.
 */
reason: string, };

/**
 * What the UI needs to know first.
 */
export type AppState = { ready: boolean, office: OfficeConfig | null, hub: string | null, 
/**
 * `plain_http` when the link to the hub is not encrypted (the app shows a warning).
 */
hub_warning: string | null, 
/**
 * A store is here but waits for its passphrase (the unlock screen).
 */
locked: boolean, 
/**
 * Whether the system keyring holds store keys here; without one, set-up asks for a
 * passphrase.
 */
keyring: boolean, 
/**
 * A recovery passphrase made just now, to show once (until `recovery_shown`).
 */
recovery: string | null, data_dir: string, 
/**
 * 演示数据 cases held here (the banner shows while any are).
 */
demo: boolean, demo_cases: number, version: string, };

/**
 * 附件: a file cited by the case, stored once as a content-addressed blob.
 */
export type AttachmentRef = { 
/**
 * BLAKE3 hash of the content, hex.
 */
hash: string, 
/**
 * The file name as given.
 */
name: string, 
/**
 * Size in bytes.
 */
size: number, 
/**
 * MIME type, if known.
 */
mime: string, 
/**
 * When it was attached (device time).
 */
added_at: number, 
/**
 * The office that attached it.
 */
added_by: string, };

/**
 * The legal basis of one category.
 */
export type BasisView = { 
/**
 * The category's code.
 */
category: string, 
/**
 * Its label.
 */
label: string, 
/**
 * The law and article cited (empty: none).
 */
basis: string, 
/**
 * Whether the county set it (else the built-in table).
 */
county: boolean, };

/**
 * 信访事项: one petition matter and everything recorded about it.
 */
export type Case = { 
/**
 * The case id.
 */
id: CaseId, 
/**
 * The schema version of the document the case was read from.
 */
schema_version: number, 
/**
 * 案件编号: the human number allocated offline by the registering device
 * (`黄桥-2017-A-0012`).
 */
number: string, 
/**
 * 正式编号: the bureau's official number, added on acceptance.
 */
official_number: string | null, 
/**
 * 登记单位: the code of the office that registered the case.
 */
registered_by: string, 
/**
 * 信访目的.
 */
purpose: Purpose, 
/**
 * 涉及领域.
 */
sector: Sector, 
/**
 * 问题类别.
 */
category: Category, 
/**
 * 所属乡镇: the township the matter belongs to, by name (黄桥镇); set at registration and
 * changed only by the bureau's assign or reassign.
 */
jurisdiction: string | null, 
/**
 * 被反映对象: the person or unit complained about.
 */
subject: string, 
/**
 * 诉求内容: what the petitioner asks for, with facts and reasons.
 */
request: string, 
/**
 * 问题属地: the village or place the matter concerns.
 */
village: string, 
/**
 * 是否保密: the petitioner asked for confidentiality; identity goes to the bureau only.
 */
confidential: boolean, 
/**
 * 解除保密: the bureau lifted the identity restriction (every concurrent value agrees; a
 * concurrent tightening keeps it restricted).
 */
identity_released: boolean, 
/**
 * Whether a losing concurrent value of 信访目的 or 是否保密 restricts the identity: a
 * concurrent edit never loosens a restriction.
 */
restrictive_values: boolean, 
/**
 * 演示数据: the case came with the demo data set. Written once, at creation; only such a
 * case may be removed (清除演示数据), the one deletion the hub performs (DESIGN §6).
 */
demo: boolean, 
/**
 * 信访人: references to the petitioners, with masked display names.
 */
petitioners: Array<PetitionerRef>, 
/**
 * 信访件: every letter, visit, call or referral about the matter, by received date.
 */
submissions: Array<Submission>, 
/**
 * 办理记录: the event log, in replay order.
 */
events: Array<CaseEvent>, 
/**
 * 附件: attachment references, by time added.
 */
attachments: Array<AttachmentRef>, 
/**
 * 答复草稿: the reply while it is drafted (Automerge text).
 */
reply_draft: string, 
/**
 * 调查报告: the investigation report while it is drafted (Automerge text).
 */
investigation_report: string, };

/**
 * Every deadline of a case as of a date.
 */
export type CaseDeadlines = { 
/**
 * The deadlines that apply now or applied.
 */
items: Array<Deadline>, 
/**
 * Deadlines that could not be computed (a date beyond the holiday table).
 */
problems: Array<DeadlineProblem>, };

/**
 * 办理记录: one event of the log. Events are only ever added; status is derived by replaying
 * them (see [`crate::workflow::replay`]).
 */
export type CaseEvent = { 
/**
 * The event id (UUIDv7).
 */
id: string, 
/**
 * One more than the largest Lamport number its author had seen on the case.
 */
lamport: number, 
/**
 * What was done.
 */
action: ActionKind, 
/**
 * The recording device (its Automerge actor, hex).
 */
actor: string, 
/**
 * The code of the office that recorded it.
 */
office: string, 
/**
 * Whether that office is the bureau or a township.
 */
role: Role, 
/**
 * 办理人: the staff member who did it.
 */
handler: string, 
/**
 * Device time of recording.
 */
at: number, 
/**
 * The day the action counts as done (the device's date, or the historical date of imported
 * history).
 */
date: string, 
/**
 * History brought in by an import, exempt from the role table.
 */
imported: boolean, 
/**
 * 去向单位: the township (assign, reassign) or body (forward) it went to.
 */
target: string | null, 
/**
 * 期限: the deadline set by an assign or an extension.
 */
due: string | null, 
/**
 * 办理说明: the note, or for 答复 the reply as issued, frozen.
 */
text: string | null, 
/**
 * 评价结果, for 评价.
 */
satisfaction: Satisfaction | null, 
/**
 * 终结原因, for 办结.
 */
close_reason: CloseReason | null, 
/**
 * 处理意见, for 答复.
 */
outcome: Outcome | null, 
/**
 * 复查/复核结论, for 复查意见 and 复核意见 (the reviewing body is in `target`).
 */
review_outcome: ReviewOutcome | null, 
/**
 * 办理程序, for the decision on acceptance (受理, or 交办 when it is the decision). Older
 * events have none: their matters are on the track their 信访目的 proposes.
 */
track: HandlingTrack | null, 
/**
 * 文书类别, for 出具文书.
 */
document_kind: DocumentKind | null, 
/**
 * 文书编号, for 出具文书.
 */
document_number: string | null, 
/**
 * The field a 冲突处理 event settles.
 */
field: string | null, 
/**
 * The event this one answers: for 督办反馈 the 督办单 (a 督办 event's id).
 */
refers: string | null, 
/**
 * 回访方式, for 回访.
 */
method: FollowUpMethod | null, 
/**
 * 无法回访: a 回访 that could not reach the petitioner (`method` says how it was tried).
 */
unreachable: boolean, };

/**
 * CaseField: `purpose` 信访目的、`sector` 涉及领域、`category` 问题类别、`jurisdiction` 所属乡镇、`subject` 被反映对象、`request` 诉求内容、`village` 问题属地、`confidential` 是否保密、`official_number` 正式编号; or a newer version's code.
 */
export type CaseField = "purpose" | "sector" | "category" | "jurisdiction" | "subject" | "request" | "village" | "confidential" | "official_number" | (string & {});

/**
 * 案件标识: a case's id, a UUIDv7 minted by the office that registered it.
 */
export type CaseId = string;

/**
 * The list filters as the UI sends them (codes; an empty one filters nothing).
 */
export type CaseQuery = { status?: Status, township?: string, category?: Category, source?: string, received_from?: string, received_to?: string, text?: string, overdue?: boolean, limit?: number, offset?: number, };

/**
 * One row of a case list.
 */
export type CaseRow = { 
/**
 * The case id.
 */
id: CaseId, 
/**
 * 案件编号.
 */
number: string, 
/**
 * 办理状态 (on the wire its code, `in_progress`).
 */
status: Status, 
/**
 * 所属乡镇.
 */
township: string | null, 
/**
 * 问题类别 (on the wire its code); a newer version's category is kept as `Unknown`.
 */
category: Category, 
/**
 * 涉及领域 code.
 */
sector: string, 
/**
 * 信访目的 code.
 */
purpose: string, 
/**
 * First submission's 信访来源 code.
 */
source: string | null, 
/**
 * First submission's 信访形式 code.
 */
channel: string | null, 
/**
 * First received.
 */
received: string | null, 
/**
 * Petitioners' masked display names (张*丰、李*).
 */
names: string, 
/**
 * 问题属地.
 */
village: string, 
/**
 * The nearest open deadline.
 */
next_due: string | null, 
/**
 * Which deadline that is (code).
 */
next_due_kind: string | null, 
/**
 * Events that did not fit the workflow.
 */
anomalies: number, 
/**
 * Fields edited concurrently, to review.
 */
conflicts: number, 
/**
 * 已转交: reassigned away from this office, read-only until it leaves.
 */
handed_over: boolean, 
/**
 * The registering office.
 */
registered_by: string, 
/**
 * 演示数据.
 */
demo: boolean, };

/**
 * Everything the case detail screen shows.
 */
export type CaseView = { 
/**
 * The case.
 */
case: Case, 
/**
 * The identity, if this office holds it.
 */
identity: Identity | null, 
/**
 * The petitioners' names as this office may show them ([`Case::names`]): full where the
 * identity is here, masked otherwise.
 */
names: Array<string>, 
/**
 * The name of every office the case mentions, by code (登记单位, who recorded each event).
 */
office_names: { [key in string]: string }, 
/**
 * Whether the petitioners' identity goes to the bureau only (检举控告, confidential).
 */
identity_restricted: boolean, 
/**
 * The derived status.
 */
status: Status, 
/**
 * Events that do not fit the workflow, for review.
 */
anomalies: Array<Anomaly>, 
/**
 * The deadlines as of today.
 */
deadlines: CaseDeadlines, 
/**
 * Fields edited concurrently, with every value, for review.
 */
conflicts: Array<FieldConflict>, 
/**
 * The actions this office may record now.
 */
allowed_actions: Array<ActionKind>, 
/**
 * 已转交: read-only until it leaves.
 */
handed_over: boolean, 
/**
 * The documents issued.
 */
documents: Array<IssuedDocument>, 
/**
 * The ratings.
 */
evaluations: Array<Evaluation>, 
/**
 * 首问责任人: who first received the matter.
 */
first_receiver: FirstReceiver | null, 
/**
 * 督办单: the supervision orders issued on the case, each with its report once made.
 */
supervisions: Array<Supervision>, 
/**
 * The orders this office may report on now (督办反馈 chooses among them).
 */
answerable_supervisions: Array<Supervision>, 
/**
 * Local changes to the case not yet acknowledged by the hub.
 */
pending_upload: number, 
/**
 * Changes to the case the hub refused, with its reasons (`ledger repair` recovers).
 */
refused: Array<QuarantinedChange>, 
/**
 * Petitioners' identities typed here that wait to be delivered to the bureau (this office
 * does not keep them: 信访工作条例 §30).
 */
identities_to_deliver: number, 
/**
 * 办理程序 the matter is handled on.
 */
track: HandlingTrack, 
/**
 * The track its 信访目的 proposes, offered first when the bureau decides on acceptance.
 */
proposed_track: HandlingTrack, 
/**
 * The documents this office can print for the case now (each has its decisive event, and
 * this office is its issuer): what the case screen offers.
 */
printable: Array<DocumentKind>, };

/**
 * Category: `illegal_transfer` 非法转让土地、`illegal_occupation` 违法占地建设、`enquiry_certificate` 咨询及要求办证、`mining_right` 涉采矿权、`dispute` 纠纷调处、`other` 其它、`illegal_approval` 违法批地、`illegal_occupation_12336` 违法占地、`illegal_use_right_transfer` 违法转让土地使用权、`farmland_damage` 破坏耕地、`other_land_violation` 其他土地违法、`illegal_exploration` 违法勘查、`illegal_mining` 违法开采、`illegal_mining_approval` 违法批准探矿权采矿权、`illegal_mining_right_transfer` 违法转让矿业权、`other_mineral_violation` 其他矿产违法; or a newer version's code.
 */
export type Category = "illegal_transfer" | "illegal_occupation" | "enquiry_certificate" | "mining_right" | "dispute" | "other" | "illegal_approval" | "illegal_occupation_12336" | "illegal_use_right_transfer" | "farmland_damage" | "other_land_violation" | "illegal_exploration" | "illegal_mining" | "illegal_mining_approval" | "illegal_mining_right_transfer" | "other_mineral_violation" | (string & {});

/**
 * Channel: `letter` 来信、`visit` 来访、`phone` 来电、`online` 网上信访、`fax` 传真、`email` 电子邮件; or a newer version's code.
 */
export type Channel = "letter" | "visit" | "phone" | "online" | "fax" | "email" | (string & {});

/**
 * CloseReason: `replied` 答复后未申请复查、`review_served` 复查意见送达、`recheck_served` 复核意见送达、`mediated` 调解协议履行、`withdrawn` 撤回、`deceased` 死亡无承受人、`statutory_procedure` 导入法定程序; or a newer version's code.
 */
export type CloseReason = "replied" | "review_served" | "recheck_served" | "mediated" | "withdrawn" | "deceased" | "statutory_procedure" | (string & {});

/**
 * A code and its Chinese label.
 */
export type CodeLabel = { code: string, label: string, };

/**
 * An error returned to the UI.
 */
export type CommandError = { 
/**
 * A stable code the UI may key on (`invalid_input`, `refused`, `offline` ...).
 */
code: string, 
/**
 * What happened and what to do, in Chinese.
 */
message: string, 
/**
 * For invalid input: each field's problem.
 */
fields?: Array<FieldError>, };

/**
 * An open matter of the same petitioner elsewhere in the county ([`Office::county_repeats`]).
 */
export type CountyRepeat = { 
/**
 * 案件编号.
 */
number: string, 
/**
 * The office that registered it (its code).
 */
office: string, 
/**
 * That office's name, from the county directory.
 */
office_name: string, 
/**
 * 所属乡镇.
 */
township: string | null, 
/**
 * 办理状态.
 */
status: Status, 
/**
 * 信访日期.
 */
received: string | null, };

/**
 * The county settings in force on a day.
 */
export type CountySettings = { 
/**
 * 复查机关, if the county named it.
 */
review_body: string | null, 
/**
 * Whether a township issues documents in its own name.
 */
issues_own_documents: boolean, 
/**
 * 复查机关 of the documents a township issues in its own name, if the county named it.
 */
township_review_body: string | null, };

/**
 * One deadline of a case.
 */
export type Deadline = { 
/**
 * Which clock.
 */
kind: DeadlineKind, 
/**
 * The day the clock started (not counted).
 */
start: string, 
/**
 * The last day.
 */
due: string, 
/**
 * The day the duty was met, if it was.
 */
met_on: string | null, 
/**
 * Calendar days from `as_of` to `due` (negative when past).
 */
days_left: number, 
/**
 * Not met and past due as of the date asked.
 */
overdue: boolean, 
/**
 * Met, but after the due date.
 */
late: boolean, 
/**
 * A petitioner's window rather than a duty of the office: never overdue work.
 */
informational: boolean, 
/**
 * 预计: the due date runs past the holiday table and was reckoned without next year's
 * holiday schedule; it may move once the table is updated.
 */
estimated: boolean, };

/**
 * DeadlineKind: `decide` 受理告知期限、`objection` 异议期限、`handle` 办理期限、`assigned` 交办期限、`review_request` 复查申请期限、`review` 复查期限、`recheck_request` 复核申请期限、`recheck` 复核期限、`supervised` 督办反馈期限、`urgent_report` 紧急上报期限、`assess_12336` 12336判定期限、`feedback_12336` 12336反馈期限; or a newer version's code.
 */
export type DeadlineKind = "decide" | "objection" | "handle" | "assigned" | "review_request" | "review" | "recheck_request" | "recheck" | "supervised" | "urgent_report" | "assess_12336" | "feedback_12336" | (string & {});

/**
 * A deadline that could not be computed.
 */
export type DeadlineProblem = { 
/**
 * Which clock.
 */
kind: DeadlineKind, 
/**
 * Why, in Chinese.
 */
message: string, };

/**
 * What removing the demo data did.
 */
export type DemoRemoval = { 
/**
 * Demo cases removed (deleted here, or marked for the hub to purge).
 */
cases: number, 
/**
 * Whether the hub still has to purge them (they go from the other offices after it has).
 */
awaiting_hub: boolean, };

/**
 * What removing the demo data did, and the app's state after it.
 */
export type DemoRemoved = { removed: DemoRemoval, state: AppState, };

/**
 * Labels the webview passes for the dialog (its i18n holds the words).
 */
export type DialogText = { 
/**
 * The dialog's title.
 */
title: string, 
/**
 * The name of the file type filter.
 */
filter: string, 
/**
 * A suggested file name (save dialogs).
 */
default_name: string, };

/**
 * DocumentKind: `acceptance_notice` 受理告知书、`non_acceptance_notice` 不予受理告知书、`extension_notice` 延长办理期限告知书、`handling_opinion` 信访处理意见书、`completion_report` 办结报告、`forwarding_notice` 转送告知书、`no_further_notice` 不再受理告知书、`review_opinion` 复查意见书、`recheck_opinion` 复核意见书; or a newer version's code.
 */
export type DocumentKind = "acceptance_notice" | "non_acceptance_notice" | "extension_notice" | "handling_opinion" | "completion_report" | "forwarding_notice" | "no_further_notice" | "review_opinion" | "recheck_opinion" | (string & {});

/**
 * Cases by deadline: what is overdue and what falls due soon.
 */
export type DueList = { 
/**
 * The day judged.
 */
today: string, 
/**
 * Past their deadline.
 */
overdue: Array<CaseRow>, 
/**
 * Due within 3 days.
 */
within_3: Array<CaseRow>, 
/**
 * Due in 4 to 10 days.
 */
within_10: Array<CaseRow>, };

/**
 * 值班安排: who is on duty today and which of the coming days nobody is.
 */
export type DutyOutlook = { 
/**
 * 单位代码.
 */
office: string, 
/**
 * Today.
 */
today: string, 
/**
 * Today's duties.
 */
on_duty: Array<DutySlot>, 
/**
 * Every duty from today through the last day looked at, by day.
 */
coming: Array<DutySlot>, 
/**
 * Days from today through the last day looked at with nobody on duty.
 */
gaps: Array<string>, };

/**
 * One duty as a screen lists it.
 */
export type DutySlot = { 
/**
 * The record.
 */
record: string, 
/**
 * The day.
 */
date: string, 
/**
 * 值班人员.
 */
staff: string, 
/**
 * 班次 code.
 */
shift: string, 
/**
 * 值班电话 (empty when not given).
 */
phone: string, };

/**
 * One recorded change of the rules.
 */
export type EntryView = { 
/**
 * The item's code.
 */
item: string, 
/**
 * What it is, in Chinese.
 */
label: string, 
/**
 * The value (a holiday schedule: its lines).
 */
value: string, 
/**
 * 生效日期.
 */
from: string, 
/**
 * When it was recorded (ms).
 */
recorded_at: number, 
/**
 * Who recorded it.
 */
handler: string, 
/**
 * 依据.
 */
note: string, };

/**
 * 满意度评价: the petitioner's rating, read from its 评价 event.
 */
export type Evaluation = { 
/**
 * The rating.
 */
result: Satisfaction, 
/**
 * When it was given.
 */
date: string, 
/**
 * The petitioner's comment.
 */
comment: string, 
/**
 * The 评价 event.
 */
event_id: string, };

/**
 * Concurrent values of one field, as Automerge kept them.
 */
export type FieldConflict = { 
/**
 * The field.
 */
field: CaseField, 
/**
 * Every value, the current winner first, as text.
 */
values: Array<string>, };

/**
 * One field's problem, to show next to the field.
 */
export type FieldError = { 
/**
 * The input key (`received`, `petitioners[0].id_number`).
 */
field: string, 
/**
 * The field's Chinese name (登记日期).
 */
label: string, 
/**
 * What is wrong and what to write instead.
 */
message: string, };

/**
 * One field as a form shows it: what to ask for and how, from the same table the checks use.
 */
export type FieldForm = { 
/**
 * The key stored.
 */
key: string, 
/**
 * What people call it.
 */
label: string, 
/**
 * `text`, `count`, `date`, `month` or `code`.
 */
input: string, 
/**
 * For a code: its vocabulary (`consult_channel`, `occasion`, `risk_level`,
 * `screening_status`).
 */
vocabulary: string | null, 
/**
 * For text: the most characters.
 */
max_chars: number | null, 
/**
 * Whether a new record or item must give it.
 */
required: boolean, };

/**
 * One field value: a count or a text (dates and codes are texts in a fixed form).
 */
export type FieldValue = number | string;

/**
 * 报送: when a screening list was filed and by whom.
 */
export type Filed = { 
/**
 * 办理人.
 */
by: string, 
/**
 * The day.
 */
on: string, };

/**
 * 首问责任: the first receiver bound to the matter (首问负责制: whoever first receives a
 * petitioner answers for the matter until it is handed on in writing).
 */
export type FirstReceiver = { 
/**
 * 首问责任人: the staff member.
 */
handler: string, 
/**
 * The code of their office.
 */
office: string, 
/**
 * The day the matter was registered.
 */
date: string, };

/**
 * Flagged submissions, whatever their channel.
 */
export type Flags = { 
/**
 * 集体访/联名信.
 */
collective: number, 
/**
 * 越级访.
 */
skip_level: number, 
/**
 * 重复访.
 */
repeat: number, 
/**
 * 重大紧急.
 */
urgent: number, 
/**
 * 扬言.
 */
threat: number, 
/**
 * 涉法涉诉.
 */
litigation: number, };

/**
 * FollowUpMethod: `phone` 电话、`visit` 上门、`sms` 短信、`letter` 信函、`interview` 约谈; or a newer version's code.
 */
export type FollowUpMethod = "phone" | "visit" | "sms" | "letter" | "interview" | (string & {});

/**
 * HandlingTrack: `petition` 信访程序、`report` 检举控告办理、`enforcement` 执法查处、`litigation` 诉讼或行政复议、`arbitration` 仲裁、`other_procedure` 其他法定程序、`suggestion` 建议意见办理; or a newer version's code.
 */
export type HandlingTrack = "petition" | "report" | "enforcement" | "litigation" | "arbitration" | "other_procedure" | "suggestion" | (string & {});

/**
 * IdType: `resident_id` 居民身份证、`hk_mo_tw` 港澳台居民证件、`passport` 护照、`credit_code` 统一社会信用代码、`other` 其他证件; or a newer version's code.
 */
export type IdType = "resident_id" | "hk_mo_tw" | "passport" | "credit_code" | "other" | (string & {});

/**
 * 信访人身份: the separate per-case identity document. Every 检举控告 and confidential case's
 * identity goes to the bureau only.
 */
export type Identity = { 
/**
 * The case it belongs to.
 */
case_id: CaseId, 
/**
 * The schema version of the document it was read from.
 */
schema_version: number, 
/**
 * The persons, keyed by [`PetitionerRef::id`], sorted by id.
 */
persons: Array<Person>, };

/**
 * What an import did.
 */
export type ImportReport = { 
/**
 * Data rows read.
 */
rows: number, 
/**
 * New cases created.
 */
cases: number, 
/**
 * Rows added as further submissions to cases already here.
 */
added_submissions: number, 
/**
 * Rows already imported before (same fingerprint): nothing added.
 */
duplicates: number, 
/**
 * Invalid rows, as `第N行 列名: reason` (skipped with `skip_invalid`).
 */
invalid: Array<string>, 
/**
 * Columns not in the layout (ignored).
 */
unknown_columns: Array<string>, 
/**
 * The bureau's steps (受理, 交办, 办结 ...) a township's import left out: the bureau
 * records its own decisions.
 */
bureau_steps_left_out: number, 
/**
 * Nothing was written: this is what the import would do.
 */
dry_run: boolean, 
/**
 * Rows whose 案件编号 is a case here but no 案件标识 says they are that case, and what became
 * of each (a new case, or with the clerk's confirmation a further submission).
 */
number_matches: Array<string>, 
/**
 * New cases whose 案件编号 this store already uses, registered under a number of their own.
 */
renumbered: Array<string>, };

/**
 * 文书: a written notice or reply issued on the case, read from its 出具文书 event.
 */
export type IssuedDocument = { 
/**
 * The kind.
 */
kind: DocumentKind, 
/**
 * 文书编号.
 */
number: string, 
/**
 * 出具日期.
 */
issued: string, 
/**
 * The 出具文书 event.
 */
event_id: string, 
/**
 * The issuing office.
 */
office: string, };

/**
 * A settable item, for the editor: its code, label and kind of value.
 */
export type ItemView = { 
/**
 * The code (`policy.decide_days`, `county.review_body`, `basis.dispute` …).
 */
item: string, 
/**
 * The label.
 */
label: string, 
/**
 * `number`, `flag` or `text` (a year's holidays are set by `holidays.<year>`, not listed).
 */
value_kind: "number" | "flag" | "text", };

/**
 * A new case as entered.
 */
export type NewCase = { 
/**
 * 信访目的 (code or label); derived when empty.
 */
purpose?: string, 
/**
 * 涉及领域 (code or label).
 */
sector: string, 
/**
 * 问题类别 (code or label).
 */
category: string, 
/**
 * 所属乡镇 by name.
 */
township?: string, 
/**
 * 被反映对象.
 */
subject?: string, 
/**
 * 诉求内容.
 */
request: string, 
/**
 * 问题属地.
 */
village?: string, 
/**
 * 信访人.
 */
petitioners: Array<NewPetitioner>, 
/**
 * 信访日期 (登记日期 in the ledger).
 */
received: string | null, 
/**
 * 信访形式 (code or label).
 */
channel: string, 
/**
 * 信访来源 (code or label).
 */
source: string, 
/**
 * 人数: persons (for visits, person-visits); 1 when absent.
 */
persons?: number, 
/**
 * 批次 for visits; 1 when absent.
 */
batches?: number, 
/**
 * 集体访/联名信; follows from the number of persons when absent.
 */
collective?: boolean, 
/**
 * 越级.
 */
skip_level?: boolean, 
/**
 * 重复.
 */
repeat?: boolean, 
/**
 * 匿名.
 */
anonymous?: boolean, 
/**
 * 是否保密.
 */
confidential?: boolean, 
/**
 * 反映内容 of this submission.
 */
summary?: string, 
/**
 * 来文机关, for a referral: the referring body's full name.
 */
referred_by?: string, 
/**
 * 来文文号, for a referral.
 */
referral_number?: string, 
/**
 * 平台编号, for a 12336 report: the number the platform gave it.
 */
platform_number?: string, 
/**
 * 重大紧急 (信访工作条例 §25).
 */
urgent?: boolean, 
/**
 * 扬言.
 */
threat?: boolean, 
/**
 * 涉法涉诉.
 */
litigation?: boolean, };

/**
 * A petitioner as entered.
 */
export type NewPetitioner = { 
/**
 * 姓名(名称).
 */
name: string, 
/**
 * 信访人类型 (code or label); 公民 when empty.
 */
kind?: string, 
/**
 * 证件类型 (code or label); 居民身份证 when a number is given.
 */
id_type?: string, 
/**
 * 证件号码.
 */
id_number?: string, 
/**
 * 联系电话.
 */
phone?: string, 
/**
 * 住址.
 */
address?: string, 
/**
 * 代表: one of the representatives several visitors chose (信访工作条例 §20).
 */
representative?: boolean, };

/**
 * One occasion's share of [`WorkTotals`].
 */
export type OccasionTotals = { 
/**
 * Events.
 */
events: number, 
/**
 * 宣传单.
 */
leaflets: number, 
/**
 * 标语.
 */
slogans: number, 
/**
 * 群众会.
 */
mass_meetings: number, 
/**
 * 座谈会.
 */
forums: number, 
/**
 * 培训（期）.
 */
trainings: number, 
/**
 * 参加人数.
 */
attendees: number, };

/**
 * The office's settings.
 */
export type OfficeConfig = { 
/**
 * 单位代码 (`hq01`).
 */
code: string, 
/**
 * 单位名称 (黄桥镇国土所).
 */
name: string, 
/**
 * Bureau or township office.
 */
role: Role, 
/**
 * The townships it answers for, by name. For the bureau, the county's townships (empty
 * accepts any name).
 */
townships: Array<string>, 
/**
 * 办理人: the staff who may record actions; the first is the default.
 */
staff: Array<string>, 
/**
 * The prefix of case numbers (黄桥 in 黄桥-2017-A-0012).
 */
number_prefix: string, 
/**
 * This device's letter in case numbers, so devices never collide offline.
 */
device: string, };

/**
 * Outcome: `supported` 予以支持、`partly_supported` 部分支持、`explained` 解释说明、`not_supported` 不予支持; or a newer version's code.
 */
export type Outcome = "supported" | "partly_supported" | "explained" | "not_supported" | (string & {});

/**
 * A page of cases.
 */
export type Page = { 
/**
 * Matches in all; for a text search at most [`COUNT_CAP`].
 */
total: number, 
/**
 * A text search found more than [`COUNT_CAP`] matches and stopped counting.
 */
capped: boolean, 
/**
 * This page.
 */
rows: Array<CaseRow>, };

/**
 * A period of days, both ends included.
 */
export type Period = { 
/**
 * First day.
 */
from: string, 
/**
 * Last day.
 */
to: string, };

/**
 * 信访人: one petitioner's identity and contact details.
 */
export type Person = { 
/**
 * The key the case's [`PetitionerRef`] points to.
 */
id: string, 
/**
 * 姓名(名称).
 */
name: string, 
/**
 * 证件类型.
 */
id_type: IdType, 
/**
 * 证件号码.
 */
id_number: string, 
/**
 * 联系电话.
 */
phone: string, 
/**
 * 住址.
 */
address: string, };

/**
 * PetitionerKind: `citizen` 公民、`legal_person` 法人、`organisation` 其他组织; or a newer version's code.
 */
export type PetitionerKind = "citizen" | "legal_person" | "organisation" | (string & {});

/**
 * A reference from a case to one petitioner in its identity document.
 */
export type PetitionerRef = { 
/**
 * The key of the person in the case's identity document.
 */
id: string, 
/**
 * 信访人类型.
 */
kind: PetitionerKind, 
/**
 * The masked name shown in lists (张*明); see [`crate::idcard::mask_name`].
 */
display_name: string, };

/**
 * What a dialog is for: which kind of dialog, filters and how many files.
 */
export type PickPurpose = "open_ledger" | "attachments" | "save_ledger" | "save_statistics" | "open_work";

/**
 * What the webview learns of a chosen file.
 */
export type Picked = { 
/**
 * The handle later commands take instead of a path.
 */
handle: string, 
/**
 * The file's name, to show.
 */
name: string, };

/**
 * One version of the deadline policy, and whether it is the one in force.
 */
export type PolicyView = { 
/**
 * Whether it is the version for matters received today.
 */
in_force: boolean, 
/**
 * A stable id (`xfgztl-2022`; a county's version adds its first day: `xfgztl-2022+2027-01-01`).
 */
id: string, 
/**
 * The instrument, in Chinese.
 */
name: string, 
/**
 * The first day (by receipt) the version applies to.
 */
effective_from: string, 
/**
 * 受理告知期限: days from receipt to decide and notify (§23).
 */
decide_days: number, 
/**
 * Whether `decide_days` counts working days (浙江省信访条例 §20: 5 working days).
 */
decide_working: boolean, 
/**
 * 异议期限: working days to object to a misdirected referral (§23 ¶3).
 */
objection_working_days: number, 
/**
 * 办理期限: days from acceptance to handle (§34).
 */
handle_days: number, 
/**
 * 延期上限: the most an extension may add (§34).
 */
extension_max_days: number, 
/**
 * 复查申请期限: days from the reply for the petitioner to ask for a review (§35).
 */
review_request_days: number, 
/**
 * 复查期限: days from the request to issue the review opinion (§35).
 */
review_days: number, 
/**
 * 评价期限: days after the reply for the rating before it counts as 超期未评价.
 */
rating_days: number, 
/**
 * Persons from whom a visit counts as 集体访 (no national number; 5 is common practice).
 */
collective_threshold: number, 
/**
 * 停访息诉观察期: days after closing without a new submission.
 */
settled_window_days: number, 
/**
 * 代表人数上限: the most representatives a visit of several people may choose
 * (信访工作条例 §20: 5); a larger visit must name them. One number: a province with tiers
 * (浙江省信访条例 §15: 3 for ten people or fewer, 5 above) keeps the national 5.
 */
representatives_max: number, 
/**
 * 12336判定期限: working days from receipt for the county to decide whether a 12336
 * report is in its remit (no national limit; local practice registers within 1 working
 * day and assigns the check within 2).
 */
assess_12336_working_days: number, 
/**
 * 12336反馈期限: days from receipt to feed the result back to the platform (no national
 * limit; the §34 handling period by default, a province sets its own).
 */
feedback_12336_days: number, 
/**
 * Warn this many days before a deadline (10 and 3 days).
 */
alert_days: [number, number], };

/**
 * `progress` payload: `done` of `total` for `task`.
 */
export type ProgressEvent = { 
/**
 * What is under way.
 */
task: ProgressTask, 
/**
 * Steps done.
 */
done: number, 
/**
 * Steps in all.
 */
total: number, };

/**
 * What a `progress` event reports on.
 */
export type ProgressTask = "import" | "export" | "reindex" | "encrypt";

/**
 * Purpose: `suggestion` 建议意见、`report` 检举控告、`appeal` 申诉求决、`enquiry` 咨询、`unclassified` 待分类; or a newer version's code.
 */
export type Purpose = "suggestion" | "report" | "appeal" | "enquiry" | "unclassified" | (string & {});

/**
 * A change the hub refused.
 */
export type QuarantinedChange = { 
/**
 * The case.
 */
case_id: CaseId, 
/**
 * The change hash (hex).
 */
hash: string, 
/**
 * Why, as the hub said.
 */
error: string, 
/**
 * When it was made (device time).
 */
created_at: number, };

/**
 * A rate with what it is made of.
 */
export type Rate = { 
/**
 * 分子.
 */
numerator: number, 
/**
 * 分母.
 */
denominator: number, 
/**
 * numerator ÷ denominator, rounded to four places; `null` when there is nothing to judge.
 */
value: number | null, 
/**
 * 待判定: in scope but not yet judgeable as of `as_of` (still within its time limit or
 * observation window); in neither numerator nor denominator.
 */
pending: number, 
/**
 * 无法判定: in scope but with no record to judge by (imported history without a notice
 * date); in neither numerator nor denominator.
 */
unknown: number, };

/**
 * What the last recovery did.
 */
export type RecoveryReport = { 
/**
 * Cases replaced with the hub's copy.
 */
cases: number, 
/**
 * Actions recorded again, in words.
 */
redone: Array<string>, 
/**
 * What could not be redone, and why, in words.
 */
unrecoverable: Array<string>, };

/**
 * ReviewOutcome: `upheld` 维持、`redo` 撤销并责令重作、`changed` 变更; or a newer version's code.
 */
export type ReviewOutcome = "upheld" | "redo" | "changed" | (string & {});

/**
 * How many disputes of one risk level a month lists.
 */
export type RiskCount = { 
/**
 * The level's code (`high`).
 */
risk: string, 
/**
 * Disputes at that level.
 */
count: number, };

/**
 * Role: `township` 乡镇国土所、`bureau` 县局; or a newer version's code.
 */
export type Role = "township" | "bureau" | (string & {});

/**
 * The county's rules as this office holds them.
 */
export type RulesView = { 
/**
 * Whether the rules document has arrived from the hub.
 */
received: boolean, 
/**
 * Whether this office may change the rules (the bureau).
 */
editable: boolean, 
/**
 * The policy versions, oldest first.
 */
policies: Array<PolicyView>, 
/**
 * The first and last day the holiday table covers.
 */
calendar_from: string, 
/**
 * Last covered day.
 */
calendar_to: string, 
/**
 * The county settings in force today.
 */
county: CountySettings, 
/**
 * The legal basis of every category, in force today.
 */
legal_basis: Array<BasisView>, 
/**
 * Every change recorded, newest first.
 */
entries: Array<EntryView>, 
/**
 * What may be set.
 */
items: Array<ItemView>, };

/**
 * Satisfaction: `satisfied` 满意、`basically_satisfied` 基本满意、`dissatisfied` 不满意; or a newer version's code.
 */
export type Satisfaction = "satisfied" | "basically_satisfied" | "dissatisfied" | (string & {});

/**
 * One office's screening list for a month.
 */
export type ScreeningList = { 
/**
 * The record (an office whose two devices each began the month's list offline has two;
 * both are shown).
 */
record: string, 
/**
 * 单位代码.
 */
office: string, 
/**
 * Set once filed.
 */
filed: Filed | null, 
/**
 * The disputes listed, voided ones included (each says so).
 */
items: Array<WorkItem>, };

/**
 * 月度排查汇总 as the screens show it: the month, and the name of every office it mentions.
 */
export type ScreeningView = { 
/**
 * 单位名称 by 单位代码, for every office the month names.
 */
office_names: { [key in string]: string }, 
/**
 * `2017-04`.
 */
month: string, 
/**
 * Every office's list for the month (voided lists left out).
 */
lists: Array<ScreeningList>, 
/**
 * Offices of `expected` with no filed list for the month.
 */
not_filed: Array<string>, 
/**
 * Disputes listed and not voided, per risk level (highest first; levels with none left
 * out).
 */
by_risk: Array<RiskCount>, };

/**
 * Sector: `land` 涉土、`mineral` 涉矿、`other` 其它; or a newer version's code.
 */
export type Sector = "land" | "mineral" | "other" | (string & {});

/**
 * Source: `direct` 本局接收、`provincial_bureau` 省信访局交办、`city_bureau` 市信访局交办、`county_department` 县级部门交办、`report_12336` 12336举报、`online_opinion` 网络舆情、`city_land_bureau` 市国土局交办、`national_bureau` 国家信访局转送、`provincial_department` 省厅交办、`hotline_12345` 12345热线、`leader_instruction` 领导批示、`lower_level` 下级上报; or a newer version's code.
 */
export type Source = "direct" | "provincial_bureau" | "city_bureau" | "county_department" | "report_12336" | "online_opinion" | "city_land_bureau" | "national_bureau" | "provincial_department" | "hotline_12345" | "leader_instruction" | "lower_level" | (string & {});

/**
 * The statistics of a period.
 */
export type Statistics = { 
/**
 * The period counted.
 */
period: Period, 
/**
 * The township counted, or `None` for the whole county.
 */
township: string | null, 
/**
 * The day rates are judged as of (deadlines not yet reached are not held against anyone).
 */
as_of: string, 
/**
 * 信访总量: submissions received in the period.
 */
total: number, 
/**
 * 事项: distinct matters first received in the period.
 */
cases: number, 
/**
 * By 信访来源.
 */
by_source: { [key in string]: number }, 
/**
 * By 信访形式.
 */
by_channel: { [key in string]: number }, 
/**
 * By 涉及领域.
 */
by_domain: { [key in string]: number }, 
/**
 * By 问题类别.
 */
by_category: { [key in string]: number }, 
/**
 * By source, then channel (nonzero only): the seed's 本局接收53件次(来信3件,来访50批).
 */
by_source_channel: { [key in string]: { [key in string]: number } }, 
/**
 * Visits.
 */
visits: Visits, 
/**
 * Flags.
 */
flags: Flags, 
/**
 * The rates, keyed by their Chinese names ([`RATE_NAMES`]).
 */
rates: { [key in string]: Rate }, };

/**
 * Status: `registered` 登记、`accepted` 受理、`not_accepted` 不予受理、`forwarded` 转送、`assigned` 交办、`in_progress` 办理中、`extended` 延期、`replied` 已答复、`under_review` 复查中、`reviewed` 已复查、`under_recheck` 复核中、`rechecked` 已复核、`closed` 办结、`voided` 作废、`returned` 已退回; or a newer version's code.
 */
export type Status = "registered" | "accepted" | "not_accepted" | "forwarded" | "assigned" | "in_progress" | "extended" | "replied" | "under_review" | "reviewed" | "under_recheck" | "rechecked" | "closed" | "voided" | "returned" | (string & {});

/**
 * `store-changed` payload: a case changed here or arrived by sync.
 */
export type StoreChanged = { 
/**
 * The case, or `None` for many.
 */
case_id: string | null, };

/**
 * 信访件: one letter, visit, call, online post or referral about the matter.
 */
export type Submission = { 
/**
 * The submission id (UUIDv7).
 */
id: string, 
/**
 * 信访形式.
 */
channel: Channel, 
/**
 * 信访来源.
 */
source: Source, 
/**
 * 信访日期: the day it was received; the legal clocks start here (§23).
 */
received: string, 
/**
 * 批次: for visits, the number of visit batches (the seed's 50批).
 */
batches: number, 
/**
 * 人数/人次: persons (for visits, person-visits: the seed's 116人次).
 */
persons: number, 
/**
 * 集体访/联名信: a collective visit or joint letter.
 */
collective: boolean, 
/**
 * 越级: the petitioner skipped a level.
 */
skip_level: boolean, 
/**
 * 重复: a repeat submission on a matter already raised (重件).
 */
repeat: boolean, 
/**
 * 匿名: anonymous; no written reply can be given.
 */
anonymous: boolean, 
/**
 * 是否保密: the petitioner asked for confidentiality.
 */
confidential: boolean, 
/**
 * The petitioners who made this submission (ids of [`PetitionerRef`]).
 */
petitioners: Array<string>, 
/**
 * 反映内容: what this submission says (a repeat visit may add to the request).
 */
summary: string, 
/**
 * The office that recorded it.
 */
registered_by: string, 
/**
 * The fingerprint of the imported ledger row it came from, so a re-import adds nothing.
 */
fingerprint: string | null, 
/**
 * 来文机关: the body that referred it, by its full name (邵阳市信访局), for a referral; the
 * 办结报告 goes back to it (信访工作条例 §22).
 */
referred_by: string | null, 
/**
 * 来文文号: the referring body's document number (邵信交〔2024〕12号).
 */
referral_number: string | null, 
/**
 * 平台编号: the number the 12336 platform gave the report, kept so the 反馈 goes back to
 * the right lead; only on a 12336 report.
 */
platform_number: string | null, 
/**
 * 代表: the petitioners several visitors chose to speak for them (ids of
 * [`PetitionerRef`]; at most 5, 信访工作条例 §20, or the rules document's number).
 */
representatives: Array<string>, 
/**
 * 重大紧急: a major or urgent matter, to be reported at once (信访工作条例 §25).
 */
urgent: boolean, 
/**
 * 扬言: the petitioner threatened an extreme act (the national system's 扬言标志). §25 names
 * only 重大紧急; reporting a threat at once like one is this system's practice.
 */
threat: boolean, 
/**
 * 涉法涉诉: the matter touches a court case or a statutory procedure (§22 ¶2, §28).
 */
litigation: boolean, };

/**
 * A repeat letter or visit on an existing case.
 */
export type SubmissionInput = { 
/**
 * Petitioners not yet on the case.
 */
petitioners: Array<NewPetitioner>, 
/**
 * 代表 already on the case (ids of its petitioners), besides new ones marked 代表.
 */
representatives?: Array<string>, 
/**
 * 信访日期 (登记日期 in the ledger).
 */
received: string | null, 
/**
 * 信访形式 (code or label).
 */
channel: string, 
/**
 * 信访来源 (code or label).
 */
source: string, 
/**
 * 人数: persons (for visits, person-visits); 1 when absent.
 */
persons?: number, 
/**
 * 批次 for visits; 1 when absent.
 */
batches?: number, 
/**
 * 集体访/联名信; follows from the number of persons when absent.
 */
collective?: boolean, 
/**
 * 越级.
 */
skip_level?: boolean, 
/**
 * 重复.
 */
repeat?: boolean, 
/**
 * 匿名.
 */
anonymous?: boolean, 
/**
 * 是否保密.
 */
confidential?: boolean, 
/**
 * 反映内容 of this submission.
 */
summary?: string, 
/**
 * 来文机关, for a referral: the referring body's full name.
 */
referred_by?: string, 
/**
 * 来文文号, for a referral.
 */
referral_number?: string, 
/**
 * 平台编号, for a 12336 report: the number the platform gave it.
 */
platform_number?: string, 
/**
 * 重大紧急 (信访工作条例 §25).
 */
urgent?: boolean, 
/**
 * 扬言.
 */
threat?: boolean, 
/**
 * 涉法涉诉.
 */
litigation?: boolean, };

/**
 * 督办单: a supervision order the bureau issued on a case, and the report that answered it.
 */
export type Supervision = { 
/**
 * The 督办 event's id.
 */
id: string, 
/**
 * The day it was issued.
 */
issued_on: string, 
/**
 * 被督办单位: the office told to report.
 */
to: string | null, 
/**
 * 督办要求.
 */
demand: string | null, 
/**
 * 反馈期限: the day the report is due by; older 督办 records have none.
 */
due: string | null, 
/**
 * 督办反馈: the day it was reported on and the report's text.
 */
report: [string, string] | null, 
/**
 * The day the case left the office it was addressed to (改派, 异议退回) before it
 * reported: no report is owed any more.
 */
withdrawn_on: string | null, };

/**
 * What a sync moved, for the UI.
 */
export type SyncReport = { rounds: number, uploaded: number, downloaded: number, refused: number, retries: number, };

/**
 * What the header says about sync (the one place this is decided; every screen shows it).
 */
export type SyncState = "first_sync" | "syncing" | "offline" | "failed" | "pending" | "synced";

/**
 * The sync status with the state the header shows, as `ledger-client` decides it.
 */
export type SyncStatus = { state: SyncState, 
/**
 * Last sync that completed (device time, ms).
 */
last_success: number | null, 
/**
 * Last attempt (device time, ms).
 */
last_attempt: number | null, 
/**
 * Local changes waiting to go up.
 */
pending: number, 
/**
 * Changes the hub refused (quarantined).
 */
quarantined: number, 
/**
 * The last error's code (`offline`, `timeout`, `unauthorized` ...), cleared by a success.
 */
last_error: string | null, 
/**
 * Its technical detail.
 */
last_error_detail: string | null, 
/**
 * This device's clock minus the hub's (ms), as of the last exchange.
 */
clock_skew_ms: number | null, 
/**
 * Whether the last attempt reached the hub.
 */
online: boolean, 
/**
 * Whether a sync is running now.
 */
syncing: boolean, 
/**
 * Records received so far in the running sync (the first sync's progress).
 */
pass_downloaded: number, 
/**
 * Changes acknowledged so far in the running sync.
 */
pass_uploaded: number, 
/**
 * What sync skipped here for a person to look at (something the hub sent that does not
 * read at this office), until the clerk has looked at it.
 */
unresolved: number, };

/**
 * A township a case may be assigned to.
 */
export type TownshipChoice = { 
/**
 * 乡镇 name.
 */
name: string, 
/**
 * The names of the offices enrolled for it; empty when none is (a case assigned there
 * stays with the bureau's copy until one enrolls).
 */
offices: Array<string>, };

/**
 * 批次 and 人次 of visits.
 */
export type Visits = { 
/**
 * 批次: visit batches.
 */
batches: number, 
/**
 * 人次: person-visits.
 */
persons: number, };

/**
 * Every vocabulary, in report order.
 */
export type Vocabularies = { channel: Array<CodeLabel>, source: Array<CodeLabel>, purpose: Array<CodeLabel>, sector: Array<CodeLabel>, category: Array<CodeLabel>, 
/**
 * The category codes a clerk may choose under each 涉及领域 code ([`Category::offered`]).
 */
category_by_sector: { [key in string]: Array<string> }, 
/**
 * The 信访来源 codes that are referrals ([`Source::is_referral`]): the form asks for the
 * referring body and its document number.
 */
referral_sources: Array<string>, status: Array<CodeLabel>, action: Array<CodeLabel>, satisfaction: Array<CodeLabel>, close_reason: Array<CodeLabel>, outcome: Array<CodeLabel>, review_outcome: Array<CodeLabel>, follow_up_method: Array<CodeLabel>, handling_track: Array<CodeLabel>, document_kind: Array<CodeLabel>, 
/**
 * The document kinds an office issues itself ([`DocumentKind::issued_by_office`]); the
 * review opinions are the reviewing bodies', recorded only as served.
 */
issued_documents: Array<string>, deadline_kind: Array<CodeLabel>, case_field: Array<CodeLabel>, role: Array<CodeLabel>, 
/**
 * 工作记录 kinds, and the vocabularies of their fields (each named as the field).
 */
work_kind: Array<CodeLabel>, consult_channel: Array<CodeLabel>, occasion: Array<CodeLabel>, risk_level: Array<CodeLabel>, screening_status: Array<CodeLabel>, duty_shift: Array<CodeLabel>, leader_scope: Array<CodeLabel>, settlement: Array<CodeLabel>, reception_outcome: Array<CodeLabel>, 
/**
 * The form of each kind of work record (`consult`, `outreach`, `screening`), and of a
 * screening list's items (`screening_item`): the table the office and the hub check by.
 */
work_forms: { [key in string]: Array<FieldForm> }, };

/**
 * Who voided a record or an item, when and why.
 */
export type Voided = { 
/**
 * 办理人.
 */
by: string, 
/**
 * The day.
 */
on: string, 
/**
 * 作废理由.
 */
reason: string, };

/**
 * What may be done to a record already made.
 */
export type WorkChange = { "op": "amend", 
/**
 * The item's id; none for the record itself.
 */
item: string | null, 
/**
 * The fields to correct.
 */
fields: { [key in string]: FieldValue }, } | { "op": "item", 
/**
 * Its fields.
 */
fields: { [key in string]: FieldValue }, } | { "op": "void", 
/**
 * The item's id; none for the record itself.
 */
item: string | null, 
/**
 * 作废理由.
 */
reason: string, } | { "op": "file" };

/**
 * What importing a file of work records did (or, in a dry run, would do).
 */
export type WorkImportReport = { 
/**
 * Records read.
 */
rows: number, 
/**
 * Records made.
 */
records: number, 
/**
 * Records imported before (the same line): nothing made.
 */
duplicates: number, 
/**
 * Nothing was written.
 */
dry_run: boolean, };

/**
 * A new record as a form or the command line gives it.
 */
export type WorkInput = { 
/**
 * 记录种类 (`consult`, `outreach`, `screening`).
 */
kind: string, 
/**
 * Its fields by key (`date`, `topic`, `leaflets` ...): text, or a number for counts.
 */
fields: { [key in string]: FieldValue }, 
/**
 * 办理人 (the office's first staff member when not given).
 */
handler: string | null, };

/**
 * One item of a record as it stands (a dispute on a screening list).
 */
export type WorkItem = { 
/**
 * The entry id that added it.
 */
id: string, 
/**
 * Its fields as last corrected.
 */
fields: { [key in string]: FieldValue }, 
/**
 * Who added it.
 */
added_by: string, 
/**
 * The day it was added.
 */
added_on: string, 
/**
 * Set when voided.
 */
voided: Voided | null, };

/**
 * What a record says now: its log replayed.
 */
export type WorkState = { 
/**
 * The record's fields as last corrected.
 */
fields: { [key in string]: FieldValue }, 
/**
 * Set when the record was voided.
 */
voided: Voided | null, 
/**
 * Its items, in the order they were added.
 */
items: Array<WorkItem>, 
/**
 * The first 报送 (a list filed twice was filed on the first day).
 */
filed: Filed | null, 
/**
 * Entries the replay could not place (an 更正 naming no item), described: kept, shown.
 */
anomalies: Array<string>, };

/**
 * 宣传与咨询合计: a period's consultations, outreach, reception days, leader responsibility,
 * dispute screening and duty, counted from the records (voided ones left out).
 */
export type WorkTotals = { 
/**
 * 政策咨询解答（次）.
 */
consults: number, 
/**
 * 宣传与培训活动（次）.
 */
outreach_events: number, 
/**
 * 发放宣传单（张）.
 */
leaflets: number, 
/**
 * 张贴标语（条）.
 */
slogans: number, 
/**
 * 召开群众会（次）.
 */
mass_meetings: number, 
/**
 * 召开座谈会（次）.
 */
forums: number, 
/**
 * 举办培训（期）.
 */
trainings: number, 
/**
 * 培训与活动参加人数.
 */
attendees: number, 
/**
 * Per occasion (its label): events and what they handed out, held and drew.
 */
by_occasion: { [key in string]: OccasionTotals }, 
/**
 * 领导包案包片 begun in the period.
 */
leader_cases: number, 
/**
 * Of those, marked 已化解.
 */
leader_settled: number, 
/**
 * 领导接待日 held.
 */
reception_days: number, 
/**
 * Visitors received on them (批).
 */
reception_visits: number, 
/**
 * Of those, settled on the spot.
 */
reception_on_spot: number, 
/**
 * 矛盾纠纷排查表 filed (报送) for the period's months.
 */
screening_lists: number, 
/**
 * Disputes on the period's lists (voided ones left out).
 */
disputes: number, 
/**
 * Of those, of high risk.
 */
disputes_high_risk: number, 
/**
 * Of those, settled (已化解).
 */
disputes_settled: number, 
/**
 * 信访值班 (人次): duties recorded for the period's days.
 */
duties: number, };

/**
 * A record as the screens and the command line show it.
 */
export type WorkView = { 
/**
 * Its id.
 */
id: string, 
/**
 * 记录种类 code.
 */
kind: string, 
/**
 * Its label (政策咨询).
 */
kind_label: string, 
/**
 * 单位代码 of the office that owns it.
 */
office: string, 
/**
 * That office's name.
 */
office_name: string, 
/**
 * Who made it.
 */
created_by: string, 
/**
 * The day it is about (the 日期, or the first of the 月份).
 */
day: string, 
/**
 * What it says now.
 */
state: WorkState, 
/**
 * Whether this office may add to it (its own, and not voided).
 */
editable: boolean, };

/**
 * A year's statistics as the desktop's 统计 screen shows them: the year, the year before, and
 * each month (January first).
 */
export type YearReport = { 
/**
 * The year's statistics.
 */
year: Statistics, 
/**
 * The year before's, for year-over-year change.
 */
previous: Statistics, 
/**
 * The twelve months of the year.
 */
months: Array<Statistics>, };
