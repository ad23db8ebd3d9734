import { describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../../functions/adapters/memory/memory-counter-store';
import { matchPath } from '../../functions/http/app';
import { clickIncrements, clickStats, estimateHumanClicks } from '../../functions/stats/clicks';
import { postScope } from '../../functions/stats/counted';
import { isMachineRequest } from '../../functions/stats/scanners';

const BROWSER =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

describe('a request to the redirect', () => {
  it('is a machine when it is HEAD, has no user agent, or names a scanner', () => {
    expect(isMachineRequest('GET', BROWSER)).toBe(false);
    expect(isMachineRequest('HEAD', BROWSER)).toBe(true);
    expect(isMachineRequest('GET', undefined)).toBe(true);
    expect(isMachineRequest('GET', '  ')).toBe(true);
    for (const agent of [
      'curl/8.5.0',
      'python-requests/2.32.3',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
      'Mozilla/5.0 (compatible; Google-Safety; +http://www.google.com/bot.html)',
      'Mimecast URL Protect',
      'Barracuda Sentinel (EE)',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b',
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
    ])
      expect(isMachineRequest('GET', agent), agent).toBe(true);
  });

  it('from a phone whose model name contains "bot" is still a reader', () => {
    expect(
      isMachineRequest(
        'GET',
        'Mozilla/5.0 (Linux; Android 10; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
      ),
    ).toBe(false);
  });
});

describe('the human click estimate', () => {
  it('subtracts machines, then the scanners that passed for browsers, as the hidden link shows them', () => {
    // 12 requests: 3 said they were machines; the hidden link got 5, 2 of them from declared machines.
    expect(estimateHumanClicks({ total: 12, machine: 3 }, { total: 5, machine: 2 })).toBe(6);
  });

  it('never goes below 0', () => {
    expect(estimateHumanClicks({ total: 2, machine: 1 }, { total: 9, machine: 0 })).toBe(0);
  });

  it('reads counters the redirect added into PostStats clicks, link by link', async () => {
    const counters = new MemoryCounterStore();
    const add = (index: number, machine: boolean, times: number) =>
      counters.add(Array.from({ length: times }, () => clickIncrements('p', index, machine)).flat());
    await add(1, false, 7); // readers, and 2 disguised scanners
    await add(1, true, 4);
    await add(2, false, 2); // only the disguised scanners
    await add(0, true, 4);
    await add(0, false, 2);
    const clicks = clickStats(await counters.read(postScope('p')), ['https://blog/p', 'https://a', 'https://b']);
    expect(clicks).toEqual({
      links: [
        { url: 'https://a', total: 11, machine: 4, estimatedHuman: 5 },
        { url: 'https://b', total: 2, machine: 0, estimatedHuman: 0 },
      ],
      hiddenLinkFollows: 6,
    });
  });
});

describe('route paths with parameters', () => {
  it('match one whole, non-empty segment per parameter, as API Gateway does', () => {
    expect(matchPath('/r/{post}/{link}', '/r/2024-01-01-x/3.abc')).toEqual({ post: '2024-01-01-x', link: '3.abc' });
    expect(matchPath('/r/{post}/{link}', '/r/a/b/c')).toBeUndefined();
    expect(matchPath('/r/{post}/{link}', '/r//b')).toBeUndefined();
    expect(matchPath('/r/{post}/{link}', '/x/a/b')).toBeUndefined();
    expect(matchPath('/subscribe', '/subscribe')).toEqual({});
    expect(matchPath('/subscribe', '/subscribe/')).toBeUndefined();
  });
});
