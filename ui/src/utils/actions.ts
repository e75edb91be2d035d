import type { ActionInput } from '../api/generated/bindings'

/** What the dialog of one workflow action asks for. */
export interface ActionForm {
  /** 交办/改派 pick a township; 转送 names the receiving body; 督办 may name the office supervised. */
  target?: 'township' | 'body' | 'person' | 'reviewer' | 'competent' | 'original' | 'supervised' | 'superior'
  /** 督办反馈: which 督办单 it answers. */
  refers?: boolean
  /** 回访: how the petitioner was reached, or that they could not be. */
  followUp?: boolean
  /** 复查意见, 复核意见: 维持 / 撤销并责令重作 / 变更. */
  reviewOutcome?: boolean
  /** 送达: the day the petitioner received the document. */
  served?: boolean
  /** 紧急上报: the day it was reported (today when left blank: phoned up before it was entered). */
  reportedOn?: boolean
  due?: 'optional' | 'required'
  /**
   * `reason`: a required 理由; `note`: an optional 说明; `reply`: the reply text; `method`: how a
   * document was served; `demand`: a 督办单's demand; `report`: a 督办反馈; `finding`: what a 回访
   * heard (not needed when the petitioner could not be reached); `urgent`: what a 紧急上报 told.
   */
  text?: 'reason' | 'note' | 'reply' | 'method' | 'demand' | 'report' | 'finding' | 'urgent'
  outcome?: boolean
  /** 评价 asks for the rating; 回访 may record the satisfaction the petitioner stated. */
  result?: 'required' | 'optional'
  closeReason?: boolean
  /** 受理, 交办 as the decision: the 办理程序, proposed by the shell from the 信访目的. */
  track?: boolean
}

export function actionForm(action: string): ActionForm {
  switch (action) {
    case 'assign':
      return { target: 'township', due: 'optional', track: true }
    case 'reassign':
      return { target: 'township', due: 'optional' }
    case 'accept':
      return { track: true, text: 'note' }
    case 'forward':
      return { target: 'body', text: 'note' }
    case 'extend':
      return { due: 'required', text: 'reason' }
    case 'reply':
      return { text: 'reply', outcome: true }
    case 'deliver':
      return { target: 'person', text: 'method', served: true }
    case 'review_opinion':
    case 'recheck_opinion':
      return { target: 'reviewer', reviewOutcome: true, text: 'note' }
    case 'evaluate':
      return { result: 'required', text: 'note' }
    case 'supervise':
      return { target: 'supervised', due: 'required', text: 'demand' }
    case 'supervise_report':
      return { refers: true, text: 'report' }
    case 'report_up':
      // 信访工作条例 §25: to whom, and what was reported.
      return { target: 'superior', text: 'urgent', reportedOn: true }
    case 'follow_up':
      return { followUp: true, result: 'optional', text: 'finding' }
    case 'close':
      return { closeReason: true, text: 'note' }
    case 'not_accept':
      // 信访工作条例 §23: a matter outside the land system is told where to go, not forwarded.
      return { target: 'competent', text: 'reason' }
    case 'no_further':
      return { target: 'original', text: 'reason' }
    case 'object':
    case 'void':
    case 'lift_restriction':
      return { text: 'reason' }
    default:
      // accept, review, investigate, notify, chase, hearing, mediate.
      return { text: 'note' }
  }
}

export interface ActionValues {
  target: string
  due: string
  text: string
  outcome: string
  result: string
  reason: string
  date: string
  review_outcome: string
  track: string
  handler: string
  refers: string
  method: string
  unreachable: boolean
}

export function emptyActionValues(handler = ''): ActionValues {
  return {
    target: '',
    due: '',
    text: '',
    outcome: '',
    result: '',
    reason: '',
    date: '',
    review_outcome: '',
    track: '',
    handler,
    refers: '',
    method: '',
    unreachable: false,
  }
}

/** The command input: only what this action's dialog asked for, blanks left out. */
export function toActionInput(action: string, v: ActionValues): ActionInput {
  const form = actionForm(action)
  const input: ActionInput = { action }
  const put = (key: Exclude<keyof ActionInput, 'unreachable'>, value: string) => {
    if (value.trim() !== '') input[key] = value.trim()
  }
  if (form.target) put('target', v.target)
  if (form.due) put('due', v.due)
  if (form.text) put('text', v.text)
  if (form.outcome) put('outcome', v.outcome)
  // A petitioner who could not be reached stated no satisfaction.
  if (form.result && !(form.followUp && v.unreachable)) put('result', v.result)
  if (form.closeReason) put('reason', v.reason)
  if (form.served || form.reportedOn) put('date', v.date)
  if (form.reviewOutcome) put('review_outcome', v.review_outcome)
  if (form.track) put('track', v.track)
  if (form.refers) put('refers', v.refers)
  if (form.followUp) {
    put('method', v.method)
    if (v.unreachable) input.unreachable = true
  }
  put('handler', v.handler)
  return input
}

/** Server field keys that differ from the dialog's own. */
export const ACTION_FIELD_ALIASES: Record<string, string> = { to: 'target' }

export const ACTION_FIELDS = new Set([
  'target',
  'due',
  'text',
  'outcome',
  'result',
  'reason',
  'date',
  'review_outcome',
  'track',
  'handler',
  'refers',
  'method',
])

/** Actions whose buttons stand apart in red: they end or void the case. */
export function isDestructive(action: string): boolean {
  return (
    action === 'void' ||
    action === 'not_accept' ||
    action === 'no_further' ||
    action === 'lift_restriction'
  )
}
