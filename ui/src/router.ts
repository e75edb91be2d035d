import { createRouter, createWebHashHistory } from 'vue-router'
import { app } from './composables/useApp'

// Hash history: the built files are served from the app bundle, which has no fallback route.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/ledger' },
    { path: '/ledger', name: 'ledger', component: () => import('./views/LedgerView.vue') },
    { path: '/register', name: 'register', component: () => import('./views/RegisterView.vue') },
    {
      path: '/cases/:id',
      name: 'case',
      component: () => import('./views/CaseDetailView.vue'),
      props: true,
    },
    { path: '/deadlines', name: 'deadlines', component: () => import('./views/DeadlinesView.vue') },
    { path: '/work', name: 'work', component: () => import('./views/WorkView.vue') },
    {
      path: '/statistics',
      name: 'statistics',
      component: () => import('./views/StatisticsView.vue'),
    },
    { path: '/sync', name: 'sync', component: () => import('./views/SyncView.vue') },
    { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue') },
    { path: '/:pathMatch(.*)*', redirect: '/ledger' },
  ],
})

// Until the machine is enrolled or set up there is no store: only 设置 can do anything.
router.beforeEach((to) => {
  if (app.state && !app.state.ready && to.name !== 'settings') return { name: 'settings' }
  return true
})
