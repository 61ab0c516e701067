/**
 * CSV as the exports write it (RFC 4180, CRLF line ends): one way for every export (usage, the
 * audit log), so each is safe to open in a spreadsheet.
 */

/**
 * One field, quoted when it must be. A text that a spreadsheet would run as a formula (=, +, -,
 * @, tab, CR first) is prefixed with ' — names, titles and user agents are anyone's input.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A line of fields, CRLF-terminated. */
export function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}
