import { onBeforeUnmount, ref } from 'vue'
import { errorMessage } from './useErrors'

export type SaveState = 'idle' | 'pending' | 'saving' | 'saved' | 'error'

/**
 * Saves a text a moment after typing stops, and at once when the component goes away, so a
 * draft is never lost and the store is not written on every keystroke.
 */
export function useAutosave(save: (text: string) => Promise<unknown>, delay = 800) {
  const state = ref<SaveState>('idle')
  const savedAt = ref<number | null>(null)
  const error = ref('')
  let timer: ReturnType<typeof setTimeout> | undefined
  let pending: string | null = null
  let running: Promise<void> | null = null

  async function run(): Promise<void> {
    if (pending === null) return
    const text = pending
    pending = null
    state.value = 'saving'
    try {
      await save(text)
      if (pending === null) state.value = 'saved'
      savedAt.value = Date.now()
      error.value = ''
    } catch (e) {
      // Keep the text queued so the next keystroke or flush tries again.
      pending = pending ?? text
      state.value = 'error'
      error.value = errorMessage(e)
    }
  }

  function schedule(text: string): void {
    pending = text
    state.value = 'pending'
    clearTimeout(timer)
    timer = setTimeout(() => void flush(), delay)
  }

  async function flush(): Promise<void> {
    clearTimeout(timer)
    if (running) await running
    if (pending === null) return
    running = run()
    await running
    running = null
  }

  /** Whether text typed here has not reached the store yet. */
  function unsaved(): boolean {
    return pending !== null || state.value === 'saving'
  }

  onBeforeUnmount(() => void flush())

  return { state, savedAt, error, schedule, flush, unsaved }
}
