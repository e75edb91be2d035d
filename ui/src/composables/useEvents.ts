import { onBeforeUnmount, onMounted } from 'vue'
import { onEvent, type EventName } from '../api/ipc'
import type { Events } from '../api/uiTypes'

type Handler<K extends EventName> = (payload: Events[K]) => void

const handlers: { [K in EventName]: Set<Handler<K>> } = {
  'store-changed': new Set(),
  'sync-status': new Set(),
  progress: new Set(),
}

let started = false

/** Listens once per event for the whole app and fans out to the mounted components. */
export async function startEventBridge(): Promise<void> {
  if (started) return
  started = true
  const names = Object.keys(handlers) as EventName[]
  await Promise.all(
    names.map((name) =>
      onEvent(name, (payload) => {
        for (const h of handlers[name] as Set<Handler<typeof name>>) h(payload)
      }),
    ),
  )
}

export function subscribe<K extends EventName>(name: K, handler: Handler<K>): () => void {
  const set = handlers[name] as Set<Handler<K>>
  set.add(handler)
  return () => set.delete(handler)
}

/** Subscribes for the lifetime of the calling component. */
export function useEvent<K extends EventName>(name: K, handler: Handler<K>): void {
  let stop: (() => void) | null = null
  onMounted(() => {
    stop = subscribe(name, handler)
  })
  onBeforeUnmount(() => stop?.())
}
