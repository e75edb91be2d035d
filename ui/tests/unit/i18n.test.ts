import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import zhCN from '../../src/i18n/zh-CN.json'
import en from '../../src/i18n/en.json'
import { recordedAnswer } from '../../src/api/mock'
import type { Vocabularies } from '../../src/api/generated/bindings'

const VOCABULARIES = recordedAnswer<Vocabularies>('vocabularies')

type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`),
  )
}

// Vitest runs from the ui folder.
const src = join(process.cwd(), 'src')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.(vue|ts)$/.test(name) ? [path] : []
  })
}

describe('translations', () => {
  it('zh-CN and en have exactly the same keys', () => {
    expect(keys(en as Tree).sort()).toEqual(keys(zhCN as Tree).sort())
  })

  it('has no empty message', () => {
    for (const [name, tree] of [['zh-CN', zhCN], ['en', en]] as const) {
      for (const key of keys(tree as Tree)) {
        const value = key.split('.').reduce<unknown>((node, part) => (node as Tree)[part], tree)
        expect(value, `${name}: ${key}`).not.toBe('')
      }
    }
  })

  it('defines every key the code uses', () => {
    const defined = new Set(keys(zhCN as Tree))
    const used = new Set<string>()
    for (const file of sources(src)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/\bt\(\s*'([A-Za-z0-9_.]+)'/g)) used.add(m[1] as string)
    }
    expect(used.size).toBeGreaterThan(100)
    const missing = [...used].filter((k) => !defined.has(k))
    expect(missing).toEqual([])
  })

  it('has an English name for every code of the vocabularies', () => {
    const vocab = (en as unknown as { vocab: Record<string, Record<string, string>> }).vocab
    for (const [kind, list] of Object.entries(VOCABULARIES)) {
      // `issued_documents` lists codes of `document_kind`, named there.
      if (!Array.isArray(list) || kind === 'issued_documents' || kind === 'referral_sources') continue
      for (const { code } of list as { code: string }[]) expect(vocab[kind]?.[code], `${kind}.${code}`).toBeTruthy()
    }
  })

  it('keeps Chinese out of components and composables', () => {
    const offenders = sources(src)
      .filter((f) => /[\\/](components|views|composables)[\\/]|App\.vue$/.test(f))
      .filter((f) => {
        // Comments may explain a Chinese term; only code and templates count.
        const text = readFileSync(f, 'utf8')
          .replace(/\/\/.*$/gm, '')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/<!--[\s\S]*?-->/g, '')
        return /[\u4e00-\u9fff]/.test(text)
      })
    expect(offenders).toEqual([])
  })
})
