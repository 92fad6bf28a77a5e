import { createApp } from 'vue'
import 'element-plus/dist/index.css'
import './console.css'
import { i18n } from '@/i18n'
import { whenUnauthorized } from '@/api/client'
import { router } from './router'
import App from './App.vue'

const app = createApp(App)
app.use(i18n).use(router)
whenUnauthorized(() => router.replace({ name: 'login' }))
app.mount('#app')
