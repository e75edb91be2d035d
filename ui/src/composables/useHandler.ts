import { ref, watch } from 'vue'
import { staff } from './useApp'

const STORAGE_KEY = 'ledger.handler'

function stored(): string {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? ''
  } catch {
    return ''
  }
}

/** The 办理人 last chosen on this machine: most offices have one clerk at the keyboard all day. */
export const currentHandler = ref(stored())

watch(currentHandler, (name) => {
  try {
    localStorage.setItem(STORAGE_KEY, name)
  } catch {
    // Remembered for this session only.
  }
})

/** The remembered handler if still on the staff list, else the first one. */
export function defaultHandler(): string {
  const list = staff.value
  if (list.includes(currentHandler.value)) return currentHandler.value
  return list[0] ?? ''
}
