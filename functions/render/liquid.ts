import { type Context, type Emitter, Liquid, Tag, type TagToken, type TopLevelToken } from 'liquidjs';
import { Lexer, marked, type Token, type Tokens } from 'marked';
import { liquidLimitOf, PostLimitError, postLimitErrorIn, RENDER_LIMITS } from './limits';
import { escapeAttribute, escapeText } from './sanitize';
import type { Warning } from './types';

/**
 * What the Liquid tags of a post need from the rest of the renderer. `post.ts` implements it
 * with the site folder when there is one, and with guesses from names when there is not.
 */
export interface JekyllEnvironment {
  /** The post's path as given, for errors. */
  file: string;
  site: Record<string, unknown>;
  page: Record<string, unknown>;
  /** Text of the link that stands in for a plugin tag, in the post's language. */
  linkText(link: PluginLink): string;
  /** The site's `timezone`, for the `date` filter. */
  timeZone?: string;
  /** `{% post_url name %}`: the post's URL path including `baseurl`. */
  postUrl(name: string): string | undefined;
  /** `{% link path %}`: the URL path (including `baseurl`) of a file of the site. */
  link(path: string): string | undefined;
  /** `{% include name %}`: the file's text from `_includes/`, if it can be read. */
  include(name: string): string | undefined;
  /** `{% include_relative name %}`: a file next to the post. */
  includeRelative(name: string): string | undefined;
  /** `relative_url` filter: adds `baseurl`. */
  relativeUrl(path: string): string;
  /** `absolute_url` filter: adds url and `baseurl`. */
  absoluteUrl(path: string): string;
  warn(warning: Warning): void;
}

const PLACEHOLDER_PREFIX = 'PUSHLETTERCODE';
const PLACEHOLDER = /PUSHLETTERCODE(\d+)X/g;

interface CodeRegion {
  text: string;
  /** Inside `{% raw %}`: the author wants Liquid shown, not run, even `{{ site.title }}`. */
  raw: boolean;
}

/**
 * `{% highlight lang %}…{% endhighlight %}` becomes a fenced block before anything else, so
 * the code inside is protected like any other code and Markdown renders it as code.
 */
export function highlightToFences(text: string): string {
  const opening = /^([ \t]*)\{%-?\s*highlight\s+([^\s%]+)[^%\n]*?-?%\}[ \t]*\n?/gm;
  const closing = /\n?[ \t]*\{%-?\s*endhighlight\s*-?%\}[ \t]*(?=\n|$)/g;
  let output = '';
  let last = 0;
  // A scan rather than one regular expression: an unclosed tag must not make the search quadratic.
  for (let open = opening.exec(text); open !== null; open = opening.exec(text)) {
    closing.lastIndex = opening.lastIndex;
    const close = closing.exec(text);
    if (close === null) break;
    const [, indent = '', language = ''] = open;
    const code = text.slice(opening.lastIndex, close.index).replace(/\n+$/, '');
    const longestRun = (code.match(/`+/g) ?? []).reduce((longest, run) => Math.max(longest, run.length), 2);
    const fence = '`'.repeat(longestRun + 1);
    output += `${text.slice(last, open.index)}${indent}${fence}${language}\n${code}\n${indent}${fence}`;
    last = closing.lastIndex;
    opening.lastIndex = closing.lastIndex;
  }
  return output + text.slice(last);
}

/** Whether the text has kramdown syntax that does not start with "{": footnotes (`[^1]`) or abbreviations (`*[HTML]:`). */
export function hasBracelessKramdown(text: string): boolean {
  return text.includes('[^') || text.includes('*[');
}

/**
 * Replaces code blocks, code spans and raw `<pre>` blocks with placeholders so that Liquid never
 * sees other tools' template syntax (`{{ .Values.image }}`, `{{ item }}`): Jekyll would blank
 * it, the reader wants what the author wrote. Markdown's own lexer finds the code, so
 * indentation, fences and backtick runs follow the same rules as the final rendering.
 */
export function protectCode(text: string): { text: string; regions: CodeRegion[] } {
  // Liquid and most kramdown syntax start with "{"; without one, nor a footnote or an abbreviation, there is nothing to shield.
  if (!text.includes('{') && !hasBracelessKramdown(text)) return { text, regions: [] };
  const rawSources: string[] = [];
  marked.walkTokens(codeTokens(text), (token: Token) => {
    if (token.type === 'code' || token.type === 'codespan') {
      rawSources.push(token.raw.replace(/\n+$/, ''));
    } else if (token.type === 'html' && (token as Tokens.HTML).block && /<(pre|code)\b/i.test(token.raw)) {
      rawSources.push(token.raw.replace(/\n+$/, ''));
    }
  });

  const ranges: Array<{ start: number; end: number }> = [];
  let cursor = 0;
  for (const raw of rawSources) {
    if (raw.trim() === '') continue;
    const found = locate(text, raw, cursor);
    if (found === undefined) continue;
    ranges.push(found);
    cursor = found.end;
  }

  const regions: CodeRegion[] = [];
  let protectedText = '';
  let last = 0;
  for (const range of ranges) {
    protectedText += text.slice(last, range.start) + `${PLACEHOLDER_PREFIX}${regions.length}X`;
    regions.push({ text: text.slice(range.start, range.end), raw: false });
    last = range.end;
  }
  protectedText += text.slice(last);

  for (const block of rawBlocks(protectedText)) {
    for (const placeholder of block.matchAll(PLACEHOLDER)) regions[Number(placeholder[1])]!.raw = true;
  }
  return { text: protectedText, regions };
}

/**
 * The Markdown tokens of `text` as far as code is concerned: every block, but inline runs only
 * where a backtick could open a code span. The rest of the inline lexing, the larger part of
 * the work, finds nothing code-like (inline HTML is never a block) and is skipped.
 */
function codeTokens(text: string): Token[] {
  const lexer = new Lexer({ gfm: true });
  const tokens = lexer.blockTokens(text.replace(/\r\n?/g, '\n'), lexer.tokens);
  for (const run of lexer.inlineQueue) {
    if (!run.src.includes('`')) continue;
    lexer.state.inRawBlock = false;
    lexer.inlineTokens(run.src, run.tokens);
  }
  lexer.inlineQueue = [];
  return tokens;
}

/** The contents of each `{% raw %}…{% endraw %}`, found in one pass. */
function rawBlocks(text: string): string[] {
  const opening = /\{%-?\s*raw\s*-?%\}/g;
  const closing = /\{%-?\s*endraw\s*-?%\}/g;
  const blocks: string[] = [];
  for (let open = opening.exec(text); open !== null; open = opening.exec(text)) {
    closing.lastIndex = opening.lastIndex;
    const close = closing.exec(text);
    if (close === null) break;
    blocks.push(text.slice(opening.lastIndex, close.index));
    opening.lastIndex = closing.lastIndex;
  }
  return blocks;
}

/**
 * Finds a token's source text. Inside list items and blockquotes the lexer sees the content
 * without its indentation or `>` markers, so a multi-line block is matched line by line with
 * whatever prefix the source has.
 */
function locate(text: string, raw: string, from: number): { start: number; end: number } | undefined {
  const exact = text.indexOf(raw, from);
  if (exact !== -1) return { start: exact, end: exact + raw.length };
  const lines = raw.split('\n');
  if (lines.length < 2) return undefined;
  // The lexer may also have turned tabs of the indentation into spaces: compare from the first non-blank.
  const escaped = lines.map((line) => line.replace(/^[ \t]+/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(escaped.join('\\n[ \\t>]*'), 'g');
  pattern.lastIndex = from;
  const match = pattern.exec(text);
  return match ? { start: match.index, end: match.index + match[0].length } : undefined;
}

/**
 * Puts the code back. `{{ site.x }}` and `{{ page.x }}` that have a value are filled in (Jekyll
 * would, and authors use them in code for URLs); anything else stays as written, and the
 * `{% raw %}` markers authors put around code to show Liquid are dropped as Jekyll drops them.
 */
export function restoreCode(
  text: string,
  regions: CodeRegion[],
  variables: { site: Record<string, unknown>; page: Record<string, unknown> },
): string {
  return text.replace(PLACEHOLDER, (whole, index: string) => {
    const region = regions[Number(index)];
    if (!region) return whole;
    let code = region.text.replace(/\{%-?\s*(end)?raw\s*-?%\}/g, '');
    if (!region.raw) {
      code = code.replace(/\{\{-?\s*((site|page)(\.[\w-]+)+)\s*-?\}\}/g, (expression, path: string) => {
        const value = lookup(variables, path);
        return typeof value === 'string' || typeof value === 'number' ? String(value) : expression;
      });
    }
    return code;
  });
}

function lookup(root: Record<string, unknown>, path: string): unknown {
  let value: unknown = root;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Tags that only make sense inside another tag; they are not registered on their own. */
const INNER_TAGS = new Set(['else', 'elsif', 'when', 'empty']);

/** Where the tags and filters of the shared engine find the post being rendered. */
const ENVIRONMENT = '__pushletterEnvironment';

function environmentOf(ctx: Context): JekyllEnvironment {
  return (ctx.globals as Record<string, JekyllEnvironment>)[ENVIRONMENT]!;
}

/** One engine per site timezone, which Liquid's `date` filter reads (Jekyll's dates are in the site's zone). */
const engines = new Map<string, Liquid>();
/** Tags the engine had before any unknown one was added: their `end…` partners are Liquid's. */
let builtinTags = new Set<string>();

/**
 * One engine for every post: building one costs more than rendering a typical post. Its tags
 * and filters are stateless and read the post from the render's globals.
 */
function engine(timeZone: string): Liquid {
  const existing = engines.get(timeZone);
  if (existing) return existing;
  const liquid = new Liquid({
    jekyllInclude: true,
    strictVariables: false,
    strictFilters: false,
    ownPropertyOnly: true,
    timezoneOffset: timeZone,
    // Month and day names as Jekyll (Ruby's strftime) prints them, whatever the machine's locale.
    locale: 'en-US',
    // A loop over (1..100000000) or a self-including include must end in an error, not a hung renderer.
    renderLimit: RENDER_LIMITS.liquidRenderMs,
    parseLimit: RENDER_LIMITS.liquidParseChars,
    memoryLimit: RENDER_LIMITS.liquidMemory,
  });
  registerJekyllTags(liquid);
  liquid.registerFilter('relative_url', function (this: { context: Context }, value: unknown) {
    return environmentOf(this.context).relativeUrl(String(value ?? ''));
  });
  liquid.registerFilter('absolute_url', function (this: { context: Context }, value: unknown) {
    return environmentOf(this.context).absoluteUrl(String(value ?? ''));
  });
  liquid.registerFilter('markdownify', (value: unknown) =>
    marked.parse(String(value ?? ''), { async: false, gfm: true }),
  );
  liquid.registerFilter('smartify', (value: unknown) => value);
  if (builtinTags.size === 0) builtinTags = new Set(Object.keys(liquid.tags));
  engines.set(timeZone, liquid);
  return liquid;
}

/**
 * Liquid as Jekyll runs it, with Jekyll's tags. A mistake in the Liquid is a warning (its tags
 * are left out); going over a render limit throws PostLimitError, since the post would only
 * fail the same way again.
 */
export function renderLiquid(text: string, environment: JekyllEnvironment): string {
  // Most posts have no Liquid at all; they skip the engine.
  if (!text.includes('{{') && !text.includes('{%')) return text;
  const filled = fillTextVariables(text, environment);
  if (filled !== undefined) return filled;
  const liquid = engine(environment.timeZone ?? 'UTC');
  registerUnknownTags(liquid, text);
  try {
    return String(
      liquid.parseAndRenderSync(
        text,
        { site: environment.site, page: environment.page },
        { globals: { [ENVIRONMENT]: environment } },
      ),
    );
  } catch (error) {
    const ours = postLimitErrorIn(error);
    if (ours) throw ours;
    const limit = liquidLimitOf(error);
    if (limit !== undefined) {
      throw new PostLimitError(
        'POST_LIQUID_LIMIT',
        `${environment.file}: ${LIMIT_TEXT[limit]}; fix the Liquid so the post renders within the limit`,
        { cause: error },
      );
    }
    environment.warn({
      code: 'LIQUID_ERROR',
      message: `Liquid could not run (${firstLine(error)}); its tags were left out of the email, check them on the blog`,
    });
    return stripLiquid(text);
  }
}

const TEXT_VARIABLE = /\{\{ *((?:site|page)(?:\.[A-Za-z_]\w*)+) *\}\}/g;

/**
 * The Liquid most posts hold is `{{ site.title }}` or `{{ page.url }}` naming a text value;
 * such a post is filled in directly, as the engine would (its parse costs more than the rest
 * of the Markdown work). Undefined when there is any other Liquid, or a value is not text.
 */
function fillTextVariables(text: string, environment: JekyllEnvironment): string | undefined {
  if (text.includes('{%')) return undefined;
  let complete = true;
  const filled = text.replace(TEXT_VARIABLE, (expression, path: string) => {
    let value: unknown = environment;
    for (const key of path.split('.')) {
      value =
        value !== null && typeof value === 'object' && Object.hasOwn(value, key)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    }
    if (typeof value === 'string') return value;
    complete = false;
    return expression;
  });
  // Any `{{` left is an expression the engine must read (filters, other variables, a value that is not text).
  return complete && !filled.includes('{{') ? filled : undefined;
}

/**
 * A post whose every `{` opens a text variable (`{{ site.title }}`) comes out the same whether
 * or not its code is protected first: restoreCode fills those very variables inside code. The
 * filled text then, so the Markdown lexing that finds the code is skipped; undefined otherwise.
 */
export function fillTextVariablesEverywhere(text: string, environment: JekyllEnvironment): string | undefined {
  if (!text.includes('{') || text.replace(TEXT_VARIABLE, '').includes('{')) return undefined;
  return fillTextVariables(text, environment);
}

/** What a reader sees when Liquid cannot run: the text without any `{% %}` or `{{ }}`. */
export function stripLiquid(text: string): string {
  let stripped = text;
  for (const block of rawBlocks(text))
    stripped = stripped.replace(
      block,
      block.replace(/\{|\}/g, (brace) => (brace === '{' ? '\u0000' : '\u0001')),
    );
  return (
    stripped
      .replace(/\{%-?\s*comment\s*-?%\}(?:[^{]|\{(?!%-?\s*endcomment))*\{%-?\s*endcomment\s*-?%\}/g, '')
      .replace(/\{%(?:[^%{]|%(?!\}))*%\}/g, '')
      .replace(/\{\{[^{}]*\}\}/g, '')
      // Whatever is left is a fragment of a tag that never closed.
      .replace(/\{\{|\{%|%\}|\}\}/g, '')
      .replace(/\u0000/g, '{')
      .replace(/\u0001/g, '}')
  );
}

const LIMIT_TEXT = {
  render: `its Liquid ran longer than ${RENDER_LIMITS.liquidRenderMs / 1000} s (a loop over a huge range, or includes that include each other?)`,
  parse: `a Liquid template in it is over ${RENDER_LIMITS.liquidParseChars.toLocaleString('en-US')} characters`,
  memory: `its Liquid builds more than ${RENDER_LIMITS.liquidMemory.toLocaleString('en-US')} characters or items (a huge range or repeated filters?)`,
};

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).trim();
}

function registerJekyllTags(liquid: Liquid): void {
  liquid.registerTag(
    'post_url',
    class extends Tag {
      private readonly postName: string;
      constructor(token: TagToken, remainTokens: TopLevelToken[], engine: Liquid) {
        super(token, remainTokens, engine);
        this.postName = token.args.trim();
      }
      render(ctx: Context, emitter: Emitter): void {
        const url = environmentOf(ctx).postUrl(this.postName);
        if (url !== undefined) emitter.write(url);
      }
    },
  );

  liquid.registerTag(
    'link',
    class extends Tag {
      private readonly target: string;
      constructor(token: TagToken, remainTokens: TopLevelToken[], engine: Liquid) {
        super(token, remainTokens, engine);
        this.target = token.args.trim();
      }
      render(ctx: Context, emitter: Emitter): void {
        const target = this.target.includes('{{') ? String(liquid.parseAndRenderSync(this.target, ctx)) : this.target;
        const url = environmentOf(ctx).link(target.trim());
        if (url !== undefined) emitter.write(url);
      }
    },
  );

  // Rendering is synchronous, so one counter serves every post.
  let depth = 0;
  const includeTag = (read: (environment: JekyllEnvironment, name: string) => string | undefined, tagName: string) =>
    class extends Tag {
      private readonly fileExpression: string;
      private readonly parameters: string;
      constructor(token: TagToken, remainTokens: TopLevelToken[], engine: Liquid) {
        super(token, remainTokens, engine);
        const match = /^\s*(\{\{[\s\S]*?\}\}\S*|\S+)([\s\S]*)$/.exec(token.args) ?? [];
        this.fileExpression = match[1] ?? '';
        this.parameters = match[2] ?? '';
      }
      render(ctx: Context, emitter: Emitter): void {
        const name = this.fileExpression.includes('{{')
          ? String(liquid.parseAndRenderSync(this.fileExpression, ctx)).trim()
          : this.fileExpression;
        const environment = environmentOf(ctx);
        const content = name === '' ? undefined : read(environment, name);
        if (content === undefined) {
          environment.warn({
            code: 'LIQUID_INCLUDE_MISSING',
            message: `{% ${tagName} ${name} %} is not available to pushletter, so the email leaves it out`,
          });
          return;
        }
        if (depth >= RENDER_LIMITS.includeDepth) {
          throw new PostLimitError(
            'POST_LIQUID_LIMIT',
            `${environment.file}: {% ${tagName} ${name} %} nests includes more than ${RENDER_LIMITS.includeDepth} levels deep (an include that includes itself?); break the loop`,
          );
        }
        const include: Record<string, unknown> = {};
        for (const [, key, doubleQuoted, singleQuoted, bare] of this.parameters.matchAll(
          /([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))/g,
        )) {
          if (key === undefined) continue;
          include[key] = bare !== undefined ? liquid.evalValueSync(bare, ctx) : (doubleQuoted ?? singleQuoted ?? '');
        }
        depth += 1;
        ctx.push({ include });
        try {
          emitter.write(String(liquid.parseAndRenderSync(content, ctx)));
        } finally {
          ctx.pop();
          depth -= 1;
        }
      }
    };
  liquid.registerTag(
    'include',
    includeTag((environment, name) => environment.include(name), 'include'),
  );
  liquid.registerTag(
    'include_relative',
    includeTag((environment, name) => environment.includeRelative(name), 'include_relative'),
  );
}

/** What a plugin tag shows on the blog, for the email to link to. */
export interface PluginLink {
  url: string;
  kind: 'video' | 'code' | 'page';
  provider?: string;
}

/**
 * Common plugin tags show something from the web (`{% gist %}` is on by default on GitHub
 * Pages); the email cannot run them but can link to what they show.
 */
export function pluginTagLink(name: string, args: string): PluginLink | undefined {
  const first = (args.split(/\s+/)[0] ?? '').replace(/^["']|["']$/g, '');
  const url = /https?:\/\/[^\s"'<>{}%]+/.exec(args)?.[0];
  if (name === 'gist' && (url || /^[\w-]+(\/[\w]+)?$/.test(first)))
    return { url: url ?? `https://gist.github.com/${first}`, kind: 'code', provider: 'GitHub Gist' };
  if (name === 'youtube' && (url || /^[\w-]{6,}$/.test(first)))
    return { url: url ?? `https://www.youtube.com/watch?v=${first}`, kind: 'video', provider: 'YouTube' };
  if (name === 'vimeo' && (url || /^\d+$/.test(first)))
    return { url: url ?? `https://vimeo.com/${first}`, kind: 'video', provider: 'Vimeo' };
  if (name === 'bilibili' && (url || /^BV\w+$/.test(first)))
    return { url: url ?? `https://www.bilibili.com/video/${first}`, kind: 'video', provider: 'bilibili' };
  return url ? { url, kind: 'page' } : undefined;
}

/**
 * Jekyll plugins add tags (`{% twitter %}`, `{% youtube %}`, `{% gist %}`) liquidjs has never
 * heard of; unregistered, one of them fails the whole post. Each becomes a tag that writes a
 * link to what it would show (or nothing) and leaves a warning, and any `end…` tag one that
 * writes nothing, so the text between them stays.
 */
function registerUnknownTags(liquid: Liquid, text: string): void {
  for (const match of text.matchAll(/\{%-?\s*([A-Za-z_][\w-]*)/g)) {
    const name = match[1]!;
    if (name in liquid.tags || INNER_TAGS.has(name) || (name.startsWith('end') && builtinTags.has(name.slice(3))))
      continue;
    const isEnd = name.startsWith('end');
    liquid.registerTag(
      name,
      class extends Tag {
        private readonly args: string;
        constructor(token: TagToken, remainTokens: TopLevelToken[], engine: Liquid) {
          super(token, remainTokens, engine);
          this.args = token.args.trim();
        }
        render(ctx: Context, emitter: Emitter): void {
          if (isEnd) return;
          const environment = environmentOf(ctx);
          const tag = `{% ${name}${this.args ? ` ${this.args}` : ''} %}`;
          const link = pluginTagLink(name, this.args);
          if (link)
            emitter.write(`<a href="${escapeAttribute(link.url)}">${escapeText(environment.linkText(link))}</a>`);
          environment.warn({
            code: 'LIQUID_UNKNOWN_TAG',
            message: link
              ? `${tag} is a tag pushletter cannot run (a Jekyll plugin?); the email links to ${link.url} instead`
              : `${tag} is a tag pushletter does not know (a Jekyll plugin?); the email leaves it out`,
          });
        }
      },
    );
  }
}
