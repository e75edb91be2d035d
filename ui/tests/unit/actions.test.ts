import { describe, expect, it } from 'vitest'
import { actionForm, emptyActionValues, toActionInput } from '../../src/utils/actions'

describe('the action dialog’s input', () => {
  it('sends a 督办单’s demand, report day and office, and a 督办反馈’s order', () => {
    const v = { ...emptyActionValues('刘洪'), target: ' ', due: '2026-12-10', text: '查清占地面积', refers: 'ev-1' }
    // The office supervised is left to the shell (the township assigned) when blank.
    expect(toActionInput('supervise', v)).toEqual({ action: 'supervise', due: '2026-12-10', text: '查清占地面积', handler: '刘洪' })
    expect(toActionInput('supervise_report', v)).toEqual({ action: 'supervise_report', refers: 'ev-1', text: '查清占地面积', handler: '刘洪' })
    expect(actionForm('supervise').due).toBe('required')
  })

  it('sends a 回访’s method, and no satisfaction when no one was reached', () => {
    const heard = { ...emptyActionValues(), method: 'phone', text: '表示满意', result: 'satisfied' }
    expect(toActionInput('follow_up', heard)).toEqual({ action: 'follow_up', method: 'phone', text: '表示满意', result: 'satisfied' })
    const missed = { ...heard, text: '', unreachable: true }
    expect(toActionInput('follow_up', missed)).toEqual({ action: 'follow_up', method: 'phone', unreachable: true })
    // Other actions never send the follow-up's fields.
    expect(toActionInput('investigate', missed)).toEqual({ action: 'investigate' })
    expect(actionForm('evaluate').result).toBe('required')
    expect(actionForm('follow_up').result).toBe('optional')
  })
})
