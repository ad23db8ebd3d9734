/**
 * Requests to the click redirect that a machine made, as far as the request itself says: HEAD
 * (browsers follow a link with GET; link checkers ask HEAD), no user agent at all (every browser
 * sends one), or a user agent on this list. Scanners that pass for a browser are not caught
 * here; the hidden link estimates them (functions/stats/clicks.ts).
 *
 * Lower-case fragments of user agents, by who sends them. Kept short and specific: a fragment
 * that also appears in a phone's or browser's user agent would take real readers for machines.
 */
export const SCANNER_USER_AGENTS: Readonly<Record<string, readonly string[]>> = {
  // Microsoft Defender for Office 365 Safe Links, Outlook's and Teams' link previews, Office apps.
  microsoft: ['safelinks', 'defender', 'bingpreview', 'skypeuripreview', 'ms-office', 'microsoft office', 'msoffice'],
  // Mail security gateways that open every link of a message.
  gateways: [
    'proofpoint',
    'mimecast',
    'barracuda',
    'ironport',
    'fortiguard',
    'sophos',
    'symantec',
    'trendmicro',
    'zscaler',
    'forcepoint',
  ],
  // Google's fetchers (Gmail's link checks and previews, Safe Browsing, crawlers).
  google: [
    'google-safety',
    'googlebot',
    'google-inspectiontool',
    'apis-google',
    'googleother',
    'google-read-aloud',
    'feedfetcher-google',
  ],
  // Link previews in chat apps, where a forwarded link gets unfurled.
  previews: [
    'facebookexternalhit',
    'slackbot',
    'discordbot',
    'telegrambot',
    'twitterbot',
    'linkedinbot',
    'whatsapp',
    'skypebot',
  ],
  // Command-line tools and HTTP libraries.
  libraries: [
    'curl/',
    'wget/',
    'python-requests',
    'python-urllib',
    'python-httpx',
    'aiohttp',
    'go-http-client',
    'okhttp',
    'java/',
    'libwww-perl',
    'node-fetch',
    'undici',
    'axios/',
    'httpclient',
  ],
  // Browsers driven by programs.
  headless: ['headlesschrome', 'phantomjs', 'puppeteer', 'playwright', 'selenium'],
};

const FRAGMENTS = Object.values(SCANNER_USER_AGENTS).flat();

/** True when the request's method or user agent says a machine made it. */
export function isMachineRequest(method: string, userAgent: string | undefined): boolean {
  if (method.toUpperCase() === 'HEAD') return true;
  const agent = userAgent?.trim().toLowerCase() ?? '';
  if (agent === '') return true;
  return FRAGMENTS.some((fragment) => agent.includes(fragment));
}
