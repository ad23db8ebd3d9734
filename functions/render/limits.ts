import { InvalidInputError } from '../commons/errors';

/**
 * Bounds on the work one post may cause. A post is written by a person but arrives through a
 * webhook, so a typo (an include that includes itself) or a hostile push must end in a clear
 * error for the editor, never in a renderer that runs for minutes or uses all the memory the
 * ingest Lambda (1 GB) or the local stack has. Real posts stay far below every one of them.
 */
export const RENDER_LIMITS = {
  /** liquidjs `renderLimit`: milliseconds of Liquid rendering per post. */
  liquidRenderMs: 5_000,
  /** liquidjs `parseLimit`: characters of one Liquid template (the post, or one include). */
  liquidParseChars: 2_000_000,
  /** liquidjs `memoryLimit`: characters and array items that Liquid filters and ranges may allocate. */
  liquidMemory: 10_000_000,
  /** Nested `{% include %}` levels: more is an include that includes itself. */
  includeDepth: 10,
  /** Quotes and lists inside each other, and emphasis inside emphasis, in the Markdown. */
  markdownNesting: 100,
  /** HTML elements inside each other. */
  htmlDepth: 256,
  /** Wall time of one post's whole render in the local stack's render worker. */
  workerTimeoutMs: 60_000,
  /** Heap of the render worker: the ingest Lambda's memory. */
  workerMemoryMb: 1024,
} as const;

/**
 * A post that goes over a render limit. It fails the same way on every attempt, so it is not
 * retried: the editor is told which post and which limit.
 */
export class PostLimitError extends InvalidInputError {
  constructor(
    code: 'POST_LIQUID_LIMIT' | 'POST_NESTING_LIMIT' | 'POST_RENDER_TIMEOUT' | 'POST_RENDER_MEMORY',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'PostLimitError';
  }
}

const CONTAINER_MARKER = /^[ \t]*(?:>|[*+-](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))/;
const EMPHASIS_RUN = /[*_~]+/g;

/**
 * Markdown parsers recurse once per nested quote, list and emphasis: 100,000 `>` or `- ` on a
 * line overflow the stack, and deep emphasis takes minutes before it does. Measured on the
 * source, before any parser sees it; throws PostLimitError naming the post and the limit.
 */
export function checkMarkdownNesting(markdown: string, file: string): void {
  const limit = RENDER_LIMITS.markdownNesting;
  let emphasis = 0;
  let fence: string | undefined;
  // An indented line is a code block only where it cannot continue a paragraph.
  let inParagraph = false;
  for (const line of markdown.split('\n')) {
    // Code is not parsed as Markdown: `*p` in C or `> ` in a shell session nest nothing.
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (marker !== undefined) {
      fence = marker;
      continue;
    }
    let rest = line;
    let containers = 0;
    for (
      let marker = CONTAINER_MARKER.exec(rest);
      marker !== null && containers <= limit;
      marker = CONTAINER_MARKER.exec(rest)
    ) {
      containers += 1;
      rest = rest.slice(marker[0].length);
    }
    if (containers > limit) {
      throw new PostLimitError(
        'POST_NESTING_LIMIT',
        `${file}: quotes or lists are nested more than ${limit} levels deep; pushletter renders at most ${limit} levels, flatten them`,
      );
    }
    // Emphasis spans paragraphs' lines, not paragraphs: a blank line closes every open one.
    if (line.trim() === '') {
      emphasis = 0;
      inParagraph = false;
      continue;
    }
    // Indented code (`*p` in C indented four spaces) is not parsed as Markdown either.
    if (!inParagraph && /^( {4}|\t)/.test(rest)) continue;
    inParagraph = true;
    const prose = line.replace(/`[^`]*`/g, 'code');
    for (const run of prose.matchAll(EMPHASIS_RUN)) {
      const before = prose[run.index - 1] ?? ' ';
      const after = prose[run.index + run[0].length] ?? ' ';
      const opens = /\s/.test(before) && !/\s/.test(after);
      const closes = !/\s/.test(before) && /\s/.test(after);
      if (opens) emphasis += 1;
      else if (closes) emphasis = Math.max(0, emphasis - 1);
      if (emphasis > limit) {
        throw new PostLimitError(
          'POST_NESTING_LIMIT',
          `${file}: emphasis (*, _ or ~) is opened more than ${limit} times without being closed; close each one, or escape a literal star as \\*`,
        );
      }
    }
  }
}

/** The error and the ones it wraps: liquidjs keeps the error a tag threw as `originalError`. */
function* errorChain(error: unknown): Generator<Error> {
  for (
    let current = error;
    current instanceof Error;
    current = (current as { originalError?: unknown }).originalError ?? current.cause
  )
    yield current;
}

/** The limit liquidjs reports (`template render limit exceeded`), when the error is one. */
export function liquidLimitOf(error: unknown): 'render' | 'parse' | 'memory' | undefined {
  for (const current of errorChain(error)) {
    const found = /(template render|parse length|memory alloc) limit exceeded/.exec(current.message)?.[1];
    if (found) return found === 'template render' ? 'render' : found === 'parse length' ? 'parse' : 'memory';
  }
  return undefined;
}

/** A PostLimitError under whatever wraps it. */
export function postLimitErrorIn(error: unknown): PostLimitError | undefined {
  for (const current of errorChain(error)) if (current instanceof PostLimitError) return current;
  return undefined;
}
