// Two clients, one build: the staff console (app/index.html → /app/) and the family client
// (m/index.html → /m/). Flask serves dist/ (backend/webui.py); hashed files go to /web-assets/.
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

export default defineConfig({
  base: '/',
  // Element Plus components are imported where a template uses them (not the whole library):
  // the console's first screen stays small. Its CSS is still loaded whole (console/main.ts).
  plugins: [vue(), Components({ dirs: [], resolvers: [ElementPlusResolver({ importStyle: false })], dts: false })],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    assetsDir: 'web-assets',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: {
        app: fileURLToPath(new URL('./app/index.html', import.meta.url)),
        m: fileURLToPath(new URL('./m/index.html', import.meta.url)),
      },
    },
  },
  server: {
    // `npm run dev` on 127.0.0.1:5173 proxies the API to a running `make run`.
    proxy: { '/api': process.env.API_URL ?? 'http://127.0.0.1:8000' },
  },
})
