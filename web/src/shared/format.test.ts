import { describe, expect, it } from 'vitest'
import { cell, compactWindow, percent } from './format'

describe('cell: indicator counts on screen', () => {
  it('shows counts from 1 to 4 as "<5" (small cells could identify a family)', () => {
    for (const n of [1, 2, 3, 4]) expect(cell(n)).toBe('<5')
  })
  it('shows 0 and counts of 5 or more as they are', () => {
    expect(cell(0)).toBe('0')
    expect(cell(5)).toBe('5')
    expect(cell(1234)).toBe('1234')
  })
  it('shows a cell the server suppressed (null or flagged) as "<5"', () => {
    expect(cell(null)).toBe('<5')
    expect(cell(undefined)).toBe('<5')
    expect(cell(12, true)).toBe('<5')
  })
})

describe('percent', () => {
  it('rounds a rate to one decimal and shows a missing rate as a dash', () => {
    expect(percent(0.9512)).toBe('95.1%')
    expect(percent(null)).toBe('—')
  })
})

describe('compactWindow', () => {
  it('keeps the year of dates outside this year', () => {
    expect(compactWindow('1999-01-02', '2099-03-04')).toBe('1999-01-02 ~ 2099-03-04')
  })
})
