/**
 * Text made safe to place in HTML, in element content and in quoted attribute values alike:
 * the signup pages and every email we build put readers' and editors' words into markup.
 */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
