import type { FieldError } from '../api/generated/bindings'

/** `petitioners.0.id_number` and `petitioners[0].id_number` name the same input. */
export function normalizeField(field: string): string {
  return field.trim().replace(/\.(\d+)(?=\.|$)/g, '[$1]')
}

export interface PlacedErrors {
  /** Message per input key, ready for `<el-form-item :error>`. */
  byField: Record<string, string>
  /** Errors for keys no input on screen has: shown above the form so none is lost. */
  unplaced: FieldError[]
}

/**
 * Places each field error next to its input. `aliases` maps a server key to the form's key
 * (the action dialog calls the township `target`, the server says `to`).
 */
export function mapFieldErrors(
  errors: FieldError[],
  isKnown: (field: string) => boolean,
  aliases: Record<string, string> = {},
): PlacedErrors {
  const byField: Record<string, string> = {}
  const unplaced: FieldError[] = []
  for (const error of errors) {
    const normal = normalizeField(error.field)
    const key = aliases[normal] ?? normal
    if (!isKnown(key)) {
      unplaced.push(error)
      continue
    }
    byField[key] = byField[key] ? `${byField[key]}；${error.message}` : error.message
  }
  return { byField, unplaced }
}
