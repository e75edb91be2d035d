/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** '1' runs the UI on the in-memory mock of the shell (`npm run dev:mock`, page tests). */
  readonly VITE_MOCK_IPC?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}
