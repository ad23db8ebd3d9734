/**
 * BCP 47 tags as people write them in `_config.yml` (`zh_CN`, `zh-cn`, `EN`) in the form
 * `<html lang>` and the template strings expect (`zh-CN`, `en`).
 */
export function normaliseLanguage(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = value.trim().replace(/_/g, '-').split('-').filter(Boolean);
  if (parts.length === 0 || !parts.every((part) => /^[A-Za-z0-9]{1,8}$/.test(part))) return undefined;
  return parts
    .map((part, index) => {
      if (index === 0) return part.toLowerCase();
      if (part.length === 2) return part.toUpperCase();
      if (part.length === 4) return part.charAt(0).toUpperCase() + part.slice(1).toLowerCase();
      return part.toLowerCase();
    })
    .join('-');
}

const DETECTION_SAMPLE = 20_000;
const HAN = /\p{Script=Han}/gu;
const LATIN = /\p{Script=Latin}/gu;

/**
 * The language of a post that does not say: Chinese when Han characters make up a real share of
 * the letters (Chinese technical posts are full of English words), else English.
 */
export function detectLanguage(text: string): 'zh-CN' | 'en' {
  // The opening of a post tells its language; reading all of a huge one would only cost time.
  const prose = withoutMarkup(text.slice(0, DETECTION_SAMPLE));
  const han = prose.match(HAN)?.length ?? 0;
  const latin = prose.match(LATIN)?.length ?? 0;
  // One Han character carries about as much as a short English word (~4 letters).
  return han > 0 && han * 4 >= latin * 0.5 ? 'zh-CN' : 'en';
}

/** Code, tags, URLs and Liquid are English-looking whatever the post's language; they do not count. */
function withoutMarkup(text: string): string {
  return text
    .replace(/^(```|~~~)[\s\S]*?^\1/gm, ' ')
    .replace(/`[^`\n]*`/g, ' ')
    .replace(/\{%[^{}]*%\}|\{\{[^{}]*\}\}/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\]\([^)]*\)/g, ']')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, ' ');
}

/** Post `lang`, else the site's, else detected from the text. */
export function resolveLanguage(postLang: unknown, siteLang: string | undefined, text: string): string {
  return normaliseLanguage(postLang) ?? siteLang ?? detectLanguage(text);
}

/** True for text whose reader expects the Chinese template strings. */
export function isChinese(lang: string): boolean {
  return lang.toLowerCase().startsWith('zh');
}
