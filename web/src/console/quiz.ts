/**
 * A lesson's quiz as the editor holds it: one list of questions whose text is per locale and
 * whose shape (number of options, the answer) is shared. The server requires every locale's quiz
 * to have the zh_CN one's options and answers (backend/education/lesson_content.py); holding the
 * shape once makes a mismatch impossible to type, and the server's field messages still show.
 */
export const QUIZ_LOCALES = ['zh_CN', 'en'] as const
export type QuizLocale = (typeof QUIZ_LOCALES)[number]
export type Texts = Record<QuizLocale, string>

/** The server's limits (lesson_content.py): at most 3 questions of 2 to 6 options. */
export const MAX_QUESTIONS = 3
export const MIN_OPTIONS = 2
export const MAX_OPTIONS = 6

export interface EditedQuestion {
  question: Texts
  options: Texts[]
  answer: number
}

/** What the API gives per locale (every part may be missing from what is stored)... */
export interface ApiQuestion {
  question?: string
  options?: string[]
  answer?: number
}

/** ...and what it takes. */
export interface QuizQuestionIn {
  question: string
  options: string[]
  answer: number
}

const blank = (): Texts => ({ zh_CN: '', en: '' })

export function newQuestion(): EditedQuestion {
  return { question: blank(), options: [blank(), blank()], answer: 0 }
}

/** Add a question (no more than the server allows); returns whether one was added. */
export function addQuestion(quiz: EditedQuestion[]): boolean {
  if (quiz.length >= MAX_QUESTIONS) return false
  quiz.push(newQuestion())
  return true
}

export function removeQuestion(quiz: EditedQuestion[], index: number): void {
  quiz.splice(index, 1)
}

export function addOption(q: EditedQuestion): boolean {
  if (q.options.length >= MAX_OPTIONS) return false
  q.options.push(blank())
  return true
}

/** Remove an option in every locale; the answer follows the option it pointed at. */
export function removeOption(q: EditedQuestion, index: number): boolean {
  if (q.options.length <= MIN_OPTIONS) return false
  q.options.splice(index, 1)
  if (q.answer === index) q.answer = 0
  else if (q.answer > index) q.answer -= 1
  return true
}

/** The editor's quiz from a lesson's variants (by position; missing text is blank). */
export function fromVariants(variants: { locale?: string; quiz?: ApiQuestion[] }[]): EditedQuestion[] {
  const byLocale = new Map(variants.map((v) => [v.locale, v.quiz ?? []]))
  const reference = byLocale.get('zh_CN') ?? []
  return reference.map((ref, i) => {
    const q: EditedQuestion = { question: blank(), options: (ref.options ?? []).map(blank), answer: ref.answer ?? 0 }
    for (const loc of QUIZ_LOCALES) {
      const item = byLocale.get(loc)?.[i]
      q.question[loc] = item?.question ?? ''
      q.options.forEach((o, j) => (o[loc] = item?.options?.[j] ?? ''))
    }
    return q
  })
}

/**
 * One locale's quiz for the API. A locale whose quiz text is all blank sends none when it is not
 * zh_CN (an English version may come later); anything typed is sent as typed, so the server's
 * own field messages name what is missing.
 */
export function toApi(quiz: EditedQuestion[], locale: QuizLocale): QuizQuestionIn[] {
  const typed = quiz.some((q) => q.question[locale].trim() || q.options.some((o) => o[locale].trim()))
  if (!typed && locale !== 'zh_CN') return []
  return quiz.map((q) => ({
    question: q.question[locale].trim(),
    options: q.options.map((o) => o[locale].trim()),
    answer: q.answer,
  }))
}

/** The server's message for one part of the quiz (`variants.<loc>.quiz.<i>.<part>...`). */
export function quizError(errors: Record<string, string>, locale: QuizLocale, ...path: (string | number)[]): string | undefined {
  const key = ['variants', locale, 'quiz', ...path].join('.')
  return errors[key]
}
