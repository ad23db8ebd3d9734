/**
 * Quoted-printable (RFC 2045 §6.7) for message bodies. Bodies are encoded once per post and
 * per-recipient values are encoded on their own and spliced in, so the encoder works on
 * independent chunks that each start at the beginning of an encoded line.
 */

/** RFC 2045 allows 76 characters per encoded line, counting the `=` of a soft line break. */
export const QP_LINE_LIMIT = 76;

const HEX = '0123456789ABCDEF';

function escapeByte(byte: number): string {
  return `=${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/**
 * Encodes text (any line endings) as quoted-printable lines joined by CRLF. Line breaks in the
 * text become hard CRLF breaks; long lines get soft breaks. When `endWithSoftBreak` is set the
 * result ends with `=\r\n`, so whatever is appended next starts on a fresh encoded line and
 * nothing is inserted into the decoded text.
 */
export function encodeQuotedPrintable(text: string, endWithSoftBreak = false): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const isLastLine = index === lines.length - 1;
    out.push(encodeLine(lines[index] ?? '', isLastLine && endWithSoftBreak));
    if (index < lines.length - 1) out.push('\r\n');
  }
  if (endWithSoftBreak) out.push('=\r\n');
  return out.join('');
}

function encodeLine(line: string, followedBySoftBreak: boolean): string {
  const bytes = Buffer.from(line, 'utf8');
  const pieces: string[] = [];
  let current = '';
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index] as number;
    const isLast = index === bytes.length - 1;
    const endsEncodedLine = isLast && !followedBySoftBreak;
    let token: string;
    if (byte === 0x20 || byte === 0x09) {
      // Trailing whitespace would be stripped in transit, so the last one is escaped.
      token = endsEncodedLine ? escapeByte(byte) : String.fromCharCode(byte);
    } else if (byte >= 33 && byte <= 126 && byte !== 61) {
      token = String.fromCharCode(byte);
    } else {
      token = escapeByte(byte);
    }
    // Leave room for the `=` of a soft break unless this token ends the line.
    const room = endsEncodedLine ? QP_LINE_LIMIT : QP_LINE_LIMIT - 1;
    if (current.length + token.length > room) {
      pieces.push(`${current}=`);
      current = '';
    }
    current += token;
  }
  pieces.push(current);
  return pieces.join('\r\n');
}
