import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { mapFieldErrors, normalizeField } from '../../src/utils/fieldErrors'
import {
  emptyForm,
  emptyPetitioner,
  isDirty,
  isRegisterField,
  phoneOk,
  residentIdOk,
  toNewCase,
  validateRegister,
} from '../../src/utils/registerForm'
import PetitionerRows from '../../src/components/PetitionerRows.vue'
import { i18n } from '../../src/i18n'

const t = (key: string, named?: Record<string, unknown>) => i18n.global.t(key, named ?? {})

function filled() {
  const form = emptyForm('黄桥镇', '刘洪')
  Object.assign(form, {
    received: '2024-03-01',
    channel: 'visit',
    source: 'direct',
    sector: 'land',
    category: 'illegal_occupation',
    purpose: 'report',
    village: '大屋村',
    request: '邻居在承包地上违法建房，请求依法查处',
  })
  form.petitioners[0]!.name = '张三丰'
  form.petitioners[0]!.id_number = '11010519491231002X'
  return form
}

describe('server field errors on the register form', () => {
  it('normalises dotted indices to the bracket form', () => {
    expect(normalizeField('petitioners.0.id_number')).toBe('petitioners[0].id_number')
    expect(normalizeField(' petitioners[2].phone ')).toBe('petitioners[2].phone')
    expect(normalizeField('received')).toBe('received')
  })

  it('places each error on its input, petitioner rows by index', () => {
    const placed = mapFieldErrors(
      [
        { field: 'received', label: '信访日期', message: '请填写信访日期' },
        { field: 'petitioners[1].id_number', label: '证件号码', message: '校验位不对' },
        { field: 'petitioners.0.phone', label: '联系电话', message: '不像电话号码' },
      ],
      (f) => isRegisterField(f, 2),
    )
    expect(placed.byField).toEqual({
      received: '请填写信访日期',
      'petitioners[1].id_number': '校验位不对',
      'petitioners[0].phone': '不像电话号码',
    })
    expect(placed.unplaced).toEqual([])
  })

  it('keeps errors for inputs the form does not have, so none is lost', () => {
    const stray = { field: 'petitioners[5].name', label: '信访人', message: '?' }
    const other = { field: 'summary_code', label: '概况', message: '!' }
    const placed = mapFieldErrors([stray, other], (f) => isRegisterField(f, 2))
    expect(placed.byField).toEqual({})
    expect(placed.unplaced).toEqual([stray, other])
  })

  it('joins two messages for the same field', () => {
    const placed = mapFieldErrors(
      [
        { field: 'batches', label: '批次', message: '来访至少1批' },
        { field: 'batches', label: '批次', message: '批次不能多于人次' },
      ],
      (f) => isRegisterField(f, 1),
    )
    expect(placed.byField.batches).toBe('来访至少1批；批次不能多于人次')
  })

  it('applies aliases (the action dialog calls the server’s `to` its target)', () => {
    const placed = mapFieldErrors([{ field: 'to', label: '承办乡镇', message: '请选择承办乡镇' }], (f) => f === 'target', {
      to: 'target',
    })
    expect(placed.byField).toEqual({ target: '请选择承办乡镇' })
  })

  it('shows a row error next to that row’s input', async () => {
    const rows = [emptyPetitioner(), emptyPetitioner()]
    const wrapper = mount(PetitionerRows, {
      props: { modelValue: rows, errors: { 'petitioners[1].id_number': '身份证号码校验位不对' } },
      global: { plugins: [i18n] },
    })
    // Element shows a form item's error after a short debounce.
    await new Promise((resolve) => setTimeout(resolve, 250))
    const second = wrapper.find('[data-testid="petitioner-row-1"]')
    expect(second.text()).toContain('身份证号码校验位不对')
    expect(wrapper.find('[data-testid="petitioner-row-0"]').text()).not.toContain('身份证号码校验位不对')
  })
})

describe('register form checks and input', () => {
  it('accepts a complete form', () => {
    expect(validateRegister(filled(), t, '2024-03-05')).toEqual([])
  })

  it('names every missing required field', () => {
    const form = emptyForm()
    form.received = ''
    const fields = validateRegister(form, t, '2024-03-05').map((e) => e.field)
    expect(fields).toEqual(
      expect.arrayContaining(['received', 'channel', 'source', 'sector', 'category', 'request', 'petitioners[0].name']),
    )
  })

  it('allows no name for an anonymous report', () => {
    const form = filled()
    form.petitioners[0]!.name = ''
    form.petitioners[0]!.id_number = ''
    form.anonymous = true
    expect(validateRegister(form, t, '2024-03-05')).toEqual([])
  })

  it('checks ID numbers, phones, dates and visit batches', () => {
    const form = filled()
    form.petitioners.push({ ...emptyPetitioner(), name: '李四', id_number: '110105194912310021', phone: 'call me' })
    form.received = '2024-04-01'
    form.batches = 5
    form.persons = 2
    const errors = validateRegister(form, t, '2024-03-05')
    expect(errors.map((e) => e.field)).toEqual(['received', 'batches', 'petitioners[1].id_number', 'petitioners[1].phone'])
    expect(errors[0]?.message).toBe('信访日期不能晚于今天')
  })

  it('validates GB 11643 check characters', () => {
    expect(residentIdOk('11010519491231002X')).toBe(true)
    expect(residentIdOk('11010519491231002x')).toBe(true)
    expect(residentIdOk('110105194912310021')).toBe(false)
    expect(residentIdOk('1101051949')).toBe(false)
  })

  it('sends batches only for visits and keeps petitioner rows in screen order', () => {
    const form = filled()
    form.petitioners.unshift({ ...emptyPetitioner() })
    const input = toNewCase(form)
    expect(input.batches).toBe(1)
    expect(input.petitioners.map((p) => p.name)).toEqual(['', '张三丰'])
    form.channel = 'letter'
    expect(toNewCase(form).batches).toBeUndefined()
    expect(toNewCase(form).purpose).toBe('report')
  })

  it('knows when something was typed', () => {
    const pristine = emptyForm('黄桥镇')
    const form = emptyForm('黄桥镇')
    expect(isDirty(form, pristine)).toBe(false)
    form.petitioners[0]!.phone = '138'
    expect(isDirty(form, pristine)).toBe(true)
  })
})

describe('phoneOk', () => {
  // The same cases as registration.rs `phones_must_reach_someone`: the form and the server agree.
  it('takes mobiles and fixed lines with an area code, and nothing shorter', () => {
    for (const ok of ['13812345678', '138 1234 5678', '+86 138-1234-5678', '0739-7221234', '07397221234', '010-12345678']) {
      expect(phoneOk(ok), ok).toBe(true)
    }
    for (const bad of ['7221234', '12345678', '1381234567', '12812345678', '+1 4155550100', '138x1234']) {
      expect(phoneOk(bad), bad).toBe(false)
    }
  })
})
