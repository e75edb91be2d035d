import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import CountTable from '../../src/components/stats/CountTable.vue'
import { i18n } from '../../src/i18n'

async function rendered(previousEmpty: boolean) {
  const wrapper = mount(CountTable, {
    props: {
      title: '按信访形式',
      kind: 'channel',
      current: { 来信: 12, 来访: 3 },
      previous: { 来信: 0, 来访: 0 },
      testid: 'table-channel',
      previousEmpty,
    },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
  // Element lays the table out after a tick.
  await new Promise((resolve) => setTimeout(resolve, 50))
  return wrapper
}

describe('a count table against the year before', () => {
  it('says 上年无数据 instead of a change against an empty year', async () => {
    const wrapper = await rendered(true)
    const text = wrapper.text()
    expect(text).toContain('上年无数据')
    expect(text).not.toContain('+12')
    expect(text).not.toContain('%')
    wrapper.unmount()
  })

  it('states the change when the year before has data', async () => {
    const wrapper = await rendered(false)
    expect(wrapper.text()).toContain('+12')
    expect(wrapper.text()).not.toContain('上年无数据')
    wrapper.unmount()
  })
})
