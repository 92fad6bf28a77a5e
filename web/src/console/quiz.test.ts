import { describe, expect, it } from 'vitest'
import {
  MAX_OPTIONS, MAX_QUESTIONS, MIN_OPTIONS, addOption, addQuestion, fromVariants, newQuestion, quizError, removeOption,
  toApi, type EditedQuestion,
} from './quiz'

function filled(): EditedQuestion {
  return {
    question: { zh_CN: '孕期每天补充多少叶酸？', en: 'How much folic acid a day?' },
    options: [
      { zh_CN: '0.4 毫克', en: '0.4 mg' },
      { zh_CN: '4 毫克', en: '4 mg' },
      { zh_CN: '不需要', en: 'None' },
    ],
    answer: 0,
  }
}

describe('quiz editor model', () => {
  it('round-trips the API variants: text per locale, one shared answer', () => {
    const variants = [
      { locale: 'zh_CN', quiz: [{ question: '问', options: ['甲', '乙'], answer: 1 }] },
      { locale: 'en', quiz: [{ question: 'Q', options: ['A', 'B'], answer: 1 }] },
    ]
    const quiz = fromVariants(variants)
    expect(quiz).toEqual([{ question: { zh_CN: '问', en: 'Q' }, options: [{ zh_CN: '甲', en: 'A' }, { zh_CN: '乙', en: 'B' }], answer: 1 }])
    expect(toApi(quiz, 'zh_CN')).toEqual(variants[0].quiz)
    expect(toApi(quiz, 'en')).toEqual(variants[1].quiz)
  })

  it('keeps the server limits: at most 3 questions, 2 to 6 options', () => {
    const quiz: EditedQuestion[] = []
    for (let i = 0; i < MAX_QUESTIONS; i++) expect(addQuestion(quiz)).toBe(true)
    expect(addQuestion(quiz)).toBe(false)
    expect(quiz).toHaveLength(3)
    const q = newQuestion()
    expect(q.options).toHaveLength(MIN_OPTIONS)
    expect(removeOption(q, 0)).toBe(false)
    while (addOption(q));
    expect(q.options).toHaveLength(MAX_OPTIONS)
  })

  it('moves the answer with its option when an option above it is removed', () => {
    const q = filled()
    q.answer = 2
    removeOption(q, 0)
    expect(q.answer).toBe(1)
    expect(q.options[q.answer].en).toBe('None')
    expect(removeOption(q, 0)).toBe(false) // two options are the least a question has
    addOption(q)
    expect(removeOption(q, 1)).toBe(true) // the answer itself: back to the first option
    expect(q.answer).toBe(0)
  })

  it('sends no English quiz while none is typed, but zh_CN always (the server then names blanks)', () => {
    const q = filled()
    q.question.en = ''
    q.options.forEach((o) => (o.en = ''))
    expect(toApi([q], 'en')).toEqual([])
    const blank = newQuestion()
    expect(toApi([blank], 'zh_CN')).toEqual([{ question: '', options: ['', ''], answer: 0 }])
  })

  it("finds the server's field message for a part of the quiz", () => {
    const errors = {
      'variants.zh_CN.quiz.0.question': 'Write this text.',
      'variants.en.quiz': 'The quiz must have the same questions, options and answers in zh_CN.',
      'variants.zh_CN.quiz.1.options.2': 'Write this text.',
    }
    expect(quizError(errors, 'zh_CN', 0, 'question')).toBe('Write this text.')
    expect(quizError(errors, 'zh_CN', 1, 'options', 2)).toBe('Write this text.')
    expect(quizError(errors, 'en')).toMatch(/same questions/)
    expect(quizError(errors, 'en', 0, 'question')).toBeUndefined()
  })
})
