import { computed, reactive } from 'vue'
import * as ipc from '../api/ipc'
import type { AppState, CommandError, SyncStatus, Vocabularies } from '../api/types'

interface AppStore {
  state: AppState | null
  vocab: Vocabularies | null
  sync: SyncStatus | null
  loadError: CommandError | null
}

/** What every screen needs: the office, the vocabularies and the sync status. */
export const app = reactive<AppStore>({ state: null, vocab: null, sync: null, loadError: null })

export async function loadApp(): Promise<void> {
  app.loadError = null
  try {
    const [state, vocab] = await Promise.all([ipc.appState(), ipc.vocabularies()])
    app.state = state
    app.vocab = vocab
  } catch (e) {
    app.loadError = ipc.toCommandError(e)
    return
  }
  void refreshSync()
}

export async function refreshSync(): Promise<void> {
  if (!app.state?.ready) return
  try {
    app.sync = await ipc.syncStatus()
  } catch {
    // The header indicator keeps its last value; the sync screen shows the error itself.
  }
}

export function setAppState(state: AppState): void {
  app.state = state
  if (!state.ready) app.sync = null
}

export const office = computed(() => app.state?.office ?? null)
export const isBureau = computed(() => office.value?.role === 'bureau')
export const townships = computed(() => office.value?.townships ?? [])
export const staff = computed(() => office.value?.staff ?? [])
export const enrolled = computed(() => Boolean(app.state?.hub))

/** An office code as people know it: this office's name, other offices by code. */
export function officeName(code: string): string {
  return code === office.value?.code ? office.value.name : code
}
