// vue-i18n with zh_CN first and en; the API is asked in the same language (Accept-Language).
import { createI18n } from 'vue-i18n'
import { setApiLanguage } from '@/api/client'
import { messages } from './messages'

export type Lang = 'zh-CN' | 'en'
const KEY = 'mch.lang'

function initial(): Lang {
  const saved = localStorage.getItem(KEY)
  if (saved === 'en' || saved === 'zh-CN') return saved
  return 'zh-CN' // zh_CN first; English on request (the switch on the log-in screen)
}

const lang = initial()
setApiLanguage(lang)
document.documentElement.lang = lang

export const i18n = createI18n({
  legacy: false,
  locale: lang,
  fallbackLocale: 'zh-CN',
  messages,
})

export function setLanguage(next: Lang): void {
  localStorage.setItem(KEY, next)
  // Reload so every screen, and the server's own localized texts, change together.
  location.reload()
}
