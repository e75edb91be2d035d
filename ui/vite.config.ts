import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Tauri serves the built files from ui/dist and, in `tauri dev`, loads the dev server on a fixed
// port; a port already taken must fail loudly instead of moving to another one.
export default defineConfig({
  plugins: [vue()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  envPrefix: ['VITE_', 'TAURI_ENV_'],
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
    __VUE_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: 'dist',
    // WebKitGTK 2.40+ and WebView2 both run ES2021.
    target: ['es2021', 'safari15'],
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.test.ts'],
  },
})
