import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import en from 'element-plus/es/locale/lang/en'
import './console.css'
import { i18n } from '@/i18n'
import { whenUnauthorized } from '@/api/client'
import { router } from './router'
import App from './App.vue'

const app = createApp(App)
app.use(ElementPlus, { locale: i18n.global.locale.value === 'en' ? en : zhCn })
app.use(i18n).use(router)
whenUnauthorized(() => router.replace({ name: 'login' }))
app.mount('#app')
