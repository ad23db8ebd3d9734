/**
 * Cuts a string into pieces of at most `limit` UTF-8 octets without splitting a character:
 * mail lines have a 998-octet ceiling and RFC 2047 encoded-words a 75-character one, and
 * Chinese text is three octets a character.
 */
export function splitByOctets(value: string, limit: number): string[] {
  if (Buffer.byteLength(value, 'utf8') <= limit) return [value];
  const pieces: string[] = [];
  let piece = '';
  let size = 0;
  for (const character of value) {
    const characterSize = Buffer.byteLength(character, 'utf8');
    if (size + characterSize > limit && piece) {
      pieces.push(piece);
      piece = '';
      size = 0;
    }
    piece += character;
    size += characterSize;
  }
  if (piece) pieces.push(piece);
  return pieces;
}
