import { beforeAll, describe, expect, it } from 'vitest'
import { documentDir, homeDir, join } from '@tauri-apps/api/path'
import * as ipc from '../../src/api/ipc'
import { installMock, resetMock, statisticsExports } from '../../src/api/mock'
import { monthRange } from '../../src/utils/period'

beforeAll(() => {
  installMock()
  resetMock()
})

describe('the mock shell for the 统计 screen', () => {
  it('counts a month range as the sum of its months', async () => {
    const year = new Date().getFullYear() - 1
    const report = await ipc.yearReport(year)
    const r = monthRange(`${year}-03`, `${year}-05`)
    const range = await ipc.statistics(r.from, r.to)
    const months = report.months.slice(2, 5).reduce((s, m) => s + m.total, 0)
    expect(range.total).toBe(months)
    expect(range.period).toEqual({ from: `${year}-03-01`, to: `${year}-05-31` })
  })

  it('refuses a period that ends before it starts, as the shell does', async () => {
    await expect(ipc.statistics('2017-06-01', '2017-03-01')).rejects.toMatchObject({ code: 'invalid_input' })
    await expect(ipc.statistics('2017-02-30x', '2017-03-01')).rejects.toMatchObject({ code: 'invalid_input' })
  })

  it('writes the statistics workbook of a period', async () => {
    await expect(ipc.exportStatistics('2017-03-01', '2017-05-31', '/home/guotu/文档/统计.xlsx', '黄桥镇')).resolves.toBeNull()
    expect(statisticsExports.at(-1)).toEqual({ from: '2017-03-01', to: '2017-05-31', path: '/home/guotu/文档/统计.xlsx', township: '黄桥镇' })
  })

  it('answers the path plugin the file dialogs use', async () => {
    await expect(documentDir()).resolves.toBe('/home/guotu/文档')
    await expect(homeDir()).resolves.toBe('/home/guotu')
    await expect(join('/home/guotu/文档', '统计.xlsx')).resolves.toBe('/home/guotu/文档/统计.xlsx')
  })
})
