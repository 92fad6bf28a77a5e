import { describe, expect, it } from 'vitest'
import { ApiError, ok } from './client'

function answer(status: number, body: unknown) {
  const response = new Response(JSON.stringify(body), { status })
  return Promise.resolve({ data: status < 400 ? body : undefined, error: status >= 400 ? body : undefined, response })
}

describe('ok: problem+json to a message the screen shows', () => {
  it('passes the data of a success through', async () => {
    await expect(ok(answer(200, { a: 1 }))).resolves.toEqual({ a: 1 })
  })

  it('keeps the per-field messages, nested fields joined with a dot', async () => {
    const problem = {
      title: 'Unprocessable Entity',
      errors: { values: { t21_risk: ['must be a ratio such as 1/270'] }, performed_on: ['Not a date.'] },
    }
    const error = await ok(answer(422, problem)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(422)
    expect((error as ApiError).fields).toEqual({
      'values.t21_risk': ['must be a ratio such as 1/270'],
      performed_on: ['Not a date.'],
    })
    expect((error as ApiError).message).toContain('values.t21_risk')
  })

  it("prefers the server's localized detail", async () => {
    const error = await ok(answer(409, { title: 'Conflict', detail: '已有进行中的妊娠' })).catch((e: unknown) => e)
    expect((error as ApiError).message).toBe('已有进行中的妊娠')
  })
})
