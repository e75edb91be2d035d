import { beforeAll, describe, expect, it } from 'vitest'
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

  it('writes the statistics workbook of a period to the file the dialog chose', async () => {
    const [file] = await ipc.pickFiles('save_statistics', { title: '导出统计表', filter: 'Excel 工作簿', default_name: '2017年3月至5月信访统计表（黄桥镇）' })
    expect(file?.name).toBe('2017年3月至5月信访统计表（黄桥镇）.xlsx')
    await expect(ipc.exportStatistics('2017-03-01', '2017-05-31', file?.handle ?? '', '黄桥镇')).resolves.toBeNull()
    expect(statisticsExports.at(-1)).toEqual({ from: '2017-03-01', to: '2017-05-31', name: '2017年3月至5月信访统计表（黄桥镇）.xlsx', township: '黄桥镇' })
  })

  it('refuses a handle no dialog gave, as the shell does', async () => {
    await expect(ipc.exportStatistics('2017-03-01', '2017-05-31', '/home/guotu/文档/统计.xlsx')).rejects.toMatchObject({ code: 'invalid_input' })
    await expect(ipc.exportLedger('/etc/passwd')).rejects.toMatchObject({ code: 'invalid_input' })
  })
})
