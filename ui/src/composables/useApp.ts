import { computed, reactive } from 'vue'
import * as ipc from '../api/ipc'
import type { AppState, CommandError, SyncStatus, TownshipChoice, Vocabularies } from '../api/generated/bindings'

interface AppStore {
  state: AppState | null
  vocab: Vocabularies | null
  sync: SyncStatus | null
  loadError: CommandError | null
  /** The county's townships a case may go to, from the directory the shell holds. */
  townshipChoices: TownshipChoice[]
  /** Office names by code, as the shell gave them with each case. */
  officeNames: Record<string, string>
}

/** What every screen needs: the office, the vocabularies and the sync status. */
export const app = reactive<AppStore>({
  state: null,
  vocab: null,
  sync: null,
  loadError: null,
  townshipChoices: [],
  officeNames: {},
})

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
  void refreshTownships()
}

/** Reloads the township choices (they change when the hub's directory does). */
export async function refreshTownships(): Promise<void> {
  if (!app.state?.ready) return
  try {
    app.townshipChoices = await ipc.townshipChoices()
  } catch {
    // Forms fall back to the office's own townships.
  }
}

/** Remembers the office names a case view carried. */
export function rememberOfficeNames(names: Record<string, string> | undefined): void {
  if (names) Object.assign(app.officeNames, names)
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

/**
 * A store was just opened (set up, enrolled or unlocked): takes the state the command returned
 * and loads what a ready app shows.
 */
export function storeOpened(state: AppState): void {
  setAppState(state)
  void refreshSync()
  void refreshTownships()
}

export const office = computed(() => app.state?.office ?? null)
export const isBureau = computed(() => office.value?.role === 'bureau')
/** The townships a case may name, as the shell lists them (the bureau: the county's). */
export const townships = computed(() => {
  const choices = app.townshipChoices.map((c) => c.name)
  return choices.length > 0 ? choices : (office.value?.townships ?? [])
})
export const staff = computed(() => office.value?.staff ?? [])
export const enrolled = computed(() => Boolean(app.state?.hub))

/** An office code as people know it: this office's name, or the name the shell gave. */
export function officeName(code: string): string {
  if (code === office.value?.code) return office.value.name
  return app.officeNames[code] ?? code
}
