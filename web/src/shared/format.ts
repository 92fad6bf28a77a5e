// Small display helpers shared by both clients.

/** Life-stage colours (婚红 孕橙 产黄 育绿 教青 养蓝 享紫) as CSS colours, readable on white. */
export const STAGE_COLOURS: Record<string, string> = {
  red: '#d93a49',
  orange: '#e8752a',
  yellow: '#c99a06',
  green: '#2f9e5a',
  cyan: '#1795a8',
  blue: '#2f6fd6',
  purple: '#8a4fc7',
}

/** Five-colour risk grade (2017) as CSS colours. */
export const RISK_COLOURS: Record<string, string> = {
  green: '#2f9e5a',
  yellow: '#d4a106',
  orange: '#e8752a',
  red: '#d93a49',
  purple: '#8a4fc7',
}

export const STATUS_TYPES: Record<string, 'primary' | 'success' | 'warning' | 'danger' | 'default'> = {
  upcoming: 'default',
  due: 'primary',
  overdue: 'danger',
  done: 'success',
  missed: 'warning',
  cancelled: 'default',
  not_applicable: 'default',
}

/** A count cell of an indicator: small numbers (1–4) and server-suppressed cells show "<5". */
export function cell(value: number | null | undefined, suppressed = false): string {
  if (suppressed || value === null || value === undefined) return '<5'
  if (value > 0 && value < 5) return '<5'
  return String(value)
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value * 1000) / 10}%`
}

/** Today in Shanghai (the default zone) as YYYY-MM-DD, for date inputs. */
export function todayIso(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())
}

export function shortDateTime(iso: string | null | undefined): string {
  if (!iso) return ''
  return new Date(iso).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' })
}

/** Save a JSON or text answer (or a server's file) as a file the browser downloads. */
export function download(name: string, content: BlobPart, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([content], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** A window for a phone: month-day when both ends are in this year, else full dates. */
export function compactWindow(opens?: string, closes?: string): string {
  const year = todayIso().slice(0, 4)
  const short = (d?: string) => (d && d.startsWith(year) ? d.slice(5) : d ?? '')
  return `${short(opens)} ~ ${short(closes)}`
}
