import { createApp } from 'vue'
import 'element-plus/dist/index.css'
import './styles.css'
import App from './App.vue'
import { i18n } from './i18n'
import { router } from './router'
import { loadApp } from './composables/useApp'
import { startEventBridge } from './composables/useEvents'

async function start(): Promise<void> {
  // Statically false in a normal build, so the mock and its data are dropped from the bundle.
  if (import.meta.env.VITE_MOCK_IPC === '1') {
    const { installMock } = await import('./api/mock')
    installMock()
  }
  document.title = i18n.global.t('app.title')
  document.documentElement.lang = i18n.global.locale.value
  await startEventBridge().catch(() => undefined)
  await loadApp()
  const vue = createApp(App)
  vue.use(i18n)
  vue.use(router)
  vue.mount('#app')
}

void start()
