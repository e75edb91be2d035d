import type { CommandError } from '../api/generated/bindings'

/**
 * The invalid rows of a rejected import (`第N行 列名: reason`). The shell may list them as
 * field errors; otherwise its message is a heading line followed by one row per line.
 */
export function rejectedRows(error: CommandError): string[] {
  if (error.fields && error.fields.length > 0) {
    return error.fields.map((f) => (f.label ? `${f.label}: ${f.message}` : f.message))
  }
  const lines = error.message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  return lines.length > 1 ? lines.slice(1) : lines
}

export function rejectionHeading(error: CommandError): string {
  return error.message.split('\n')[0]?.trim() ?? ''
}
