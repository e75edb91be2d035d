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

  it('sends a 紧急上报’s recipient, what was reported, and its day only when one is chosen', () => {
    const v = { ...emptyActionValues('李娟'), target: '县委县政府', text: '12人集体来访，扬言越级' }
    expect(toActionInput('report_up', v)).toEqual({ action: 'report_up', target: '县委县政府', text: '12人集体来访，扬言越级', handler: '李娟' })
    expect(toActionInput('report_up', { ...v, date: '2026-11-26' })).toMatchObject({ date: '2026-11-26' })
    // Other actions with a target never send a day they did not ask for.
    expect(toActionInput('forward', { ...v, date: '2026-11-26' })).not.toHaveProperty('date')
  })
})
