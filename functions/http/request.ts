import { InvalidInputError } from '../commons/errors';
import type { HttpRequest } from './types';

/** The media type without parameters, lower case (`application/json`). */
export function mediaType(request: HttpRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/** JSON in, JSON out; browsers posting the form (and everything else) get pages. */
export function wantsJson(request: HttpRequest): boolean {
  if (isJsonType(mediaType(request))) return true;
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** A JSON body, which must be an object. */
function jsonObject(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidInputError('BODY_MALFORMED', 'The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidInputError(
      'BODY_MALFORMED',
      'The JSON body must be an object, for example {"email": "reader@example.com"}.',
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * The body's fields as strings. Form-encoded and JSON bodies are accepted (a body with no
 * content type is read as a form, as curl and old clients send it); anything else is refused.
 * Non-string JSON values are ignored rather than coerced.
 */
export function readFields(request: HttpRequest): Record<string, string> {
  const type = mediaType(request);
  const raw = request.body.toString('utf8');
  if (isJsonType(type)) {
    return Object.fromEntries(
      Object.entries(jsonObject(raw)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  }
  if (type === '' || type === 'application/x-www-form-urlencoded' || type === 'text/plain') {
    // Blank lines and stray `&` are harmless; URLSearchParams never throws on malformed escapes.
    return Object.fromEntries(new URLSearchParams(raw));
  }
  throw new InvalidInputError(
    'BODY_UNSUPPORTED_TYPE',
    `Send the body as application/x-www-form-urlencoded or application/json, not ${type}.`,
  );
}

/**
 * The first of `names` a JSON body sends as something other than text (a number, list, object or
 * boolean), which `readFields` leaves out; undefined for form bodies, which only carry text. A
 * `null` counts as not sent.
 */
export function nonTextField(request: HttpRequest, names: readonly string[]): string | undefined {
  if (!isJsonType(mediaType(request))) return undefined;
  const body = jsonObject(request.body.toString('utf8'));
  return names.find((name) => body[name] !== undefined && body[name] !== null && typeof body[name] !== 'string');
}

/** The first of `names` a form body sends more than once (which `readFields` would reduce to its last value). */
export function repeatedField(request: HttpRequest, names: readonly string[]): string | undefined {
  if (isJsonType(mediaType(request))) return undefined;
  const params = new URLSearchParams(request.body.toString('utf8'));
  return names.find((name) => params.getAll(name).length > 1);
}

/**
 * Every value of a field that may repeat: a form's repeated `name=…`, or a JSON array (a single
 * JSON string counts as one value; other JSON values are kept as their JSON text, so a message
 * can name them). Undefined when the body does not have the field at all.
 */
export function readFieldValues(request: HttpRequest, name: string): string[] | undefined {
  const type = mediaType(request);
  const raw = request.body.toString('utf8');
  if (isJsonType(type)) {
    const value = jsonObject(raw)[name];
    if (value === undefined || value === null) return undefined;
    const values = Array.isArray(value) ? value : [value];
    return values.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  }
  const params = new URLSearchParams(raw);
  return params.has(name) ? params.getAll(name) : undefined;
}
