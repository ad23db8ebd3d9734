import { Parser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../functions/stats/report';
import { emptySnapshot, samplePost, sampleSnapshot } from '../stats-snapshots';

/** The report as a browser reads it: its elements with their attributes, and its visible text. */
function parse(html: string): { elements: { name: string; attributes: Record<string, string> }[]; text: string } {
  const elements: { name: string; attributes: Record<string, string> }[] = [];
  const text: string[] = [];
  let raw = 0;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        elements.push({ name, attributes });
        text.push(' ');
        if (name === 'style' || name === 'title') raw++;
      },
      onclosetag(name) {
        text.push(' ');
        if (name === 'style' || name === 'title') raw--;
      },
      ontext(data) {
        if (raw === 0) text.push(data);
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return { elements, text: text.join('').replace(/\s+/g, ' ') };
}

/** Charts come in pairs: one SVG for light, one for dark. */
function chartCount(html: string): number {
  return (html.match(/<svg /g) ?? []).length / 2;
}

describe('the report', () => {
  it('draws the list, the rates against their limits and every post, in English', async () => {
    const snapshot = sampleSnapshot({ posts: 3 });
    const html = await renderReport(snapshot);
    const { text, elements } = parse(html);
    expect(elements.find((element) => element.name === 'html')?.attributes.lang).toBe('en');
    expect(text).toContain('Field Notes: newsletter report');
    for (const heading of ['Bounces and complaints against the limits', 'The list', 'Posts', 'Top links'])
      expect(text).toContain(heading);
    for (const post of snapshot.posts) expect(text).toContain(post.title);
    // Two rate charts, two list charts, a funnel per post; no link chart with tracking off.
    expect(chartCount(html)).toBe(2 + 2 + 3);
    // The 30-day rates beside SES's and Gmail's levels.
    expect(text).toContain('SES reviews the account at 5%');
    expect(text).toContain('SES reviews the account at 0.1%');
    expect(text).toContain("Gmail's spam limit is 0.3%");
    // The newest day's active total, and the funnel's figures with their share of recipients.
    expect(text).toContain(snapshot.list.at(-1)!.active.toLocaleString('en'));
    expect(html).toContain('1,200 (100%)');
    // Screen readers get each chart's figures in words; the SVGs themselves are hidden from them.
    const described = elements.flatMap((element) => element.attributes['aria-label'] ?? []);
    expect(described).toContain(
      'Recipients, copies sent, copies delivered: Recipients 1,204 (100%), Sent 1,200 (100%), Delivered 1,188 (99%)',
    );
    expect(described.some((label) => label.startsWith('Bounce rate per post (permanent bounces / sent): '))).toBe(true);
    expect(html.match(/<svg /g)?.length).toBe(
      html.match(/<div class="(light|dark)" aria-hidden="true"><svg /g)?.length,
    );
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('speaks the site language: Chinese words for a zh-CN site', async () => {
    const html = await renderReport(sampleSnapshot({ language: 'zh-CN' }));
    const { text, elements } = parse(html);
    expect(elements.find((element) => element.name === 'html')?.attributes.lang).toBe('zh-CN');
    expect(text).toContain('田野笔记：订阅报告');
    expect(text).toContain('近 30 天退信率');
    expect(text).toContain('SES 在 5% 时审查账户');
    expect(html).toContain('收件人');
    expect(text).not.toContain('Posts');
    expect(text).not.toContain('Bounce rate');
  });

  it('falls back to English for a site in a language it has no words for', async () => {
    const html = await renderReport(sampleSnapshot({ posts: 1 }));
    const french = await renderReport({
      ...sampleSnapshot({ posts: 1 }),
      site: { title: 'Field Notes', language: 'fr' },
    });
    expect(french).toContain('<html lang="en">');
    expect(parse(french).text).toBe(parse(html).text);
  });

  it('is useful for a new list: no posts, no days, nothing sent', async () => {
    const html = await renderReport(emptySnapshot());
    const { text } = parse(html);
    expect(text).toContain('No post has been sent yet');
    expect(text).toContain('No list figures yet');
    expect(text).toContain('Nothing was sent in the last 30 days');
    expect(chartCount(html)).toBe(0);
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('shows a post that is dispatching, with nothing sent yet, without dividing by zero', async () => {
    const snapshot = emptySnapshot({
      posts: [
        samplePost({
          recipients: 0,
          sent: 0,
          delivered: 0,
          sentAt: undefined,
          bounced: { permanent: 0, transient: 0 },
        }),
      ],
    });
    const html = await renderReport(snapshot);
    expect(parse(html).text).toContain('not sent yet');
    // Its funnel, and no rate chart: a rate of nothing sent means nothing.
    expect(chartCount(html)).toBe(1);
    expect(html).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('with tracking off says clicks are not counted, and draws no click stage', async () => {
    const html = await renderReport(sampleSnapshot({ tracking: 'off' }));
    const { text } = parse(html);
    expect(text).toContain('Clicks are not counted: tracking is off');
    expect(text).toContain('Click tracking is off');
    expect(html).not.toContain('>Clicks<');
  });

  it('with tracking aggregate ranks links by estimated people and says how machines are told apart', async () => {
    const snapshot = sampleSnapshot({ tracking: 'aggregate', posts: 2 });
    const html = await renderReport(snapshot);
    const { text } = parse(html);
    expect(text).toContain('Click tracking is aggregate');
    expect(text).toContain('Each email carries one link no person sees');
    // A funnel per post ends in the post's estimated human clicks (350 + 108 + 0 of 1,200).
    expect(html).toContain('>Clicks<');
    expect(html).toContain('458 (38%)');
    // The table: every counted link with people, machines (everything else) and all requests.
    const rows = [...html.matchAll(/<tr><td>(\d+) ([^<]+)<br>.*?<\/tr>/g)].map((match) => [match[1], match[2]]);
    expect(rows).toHaveLength(6);
    expect(rows[0]![1]).toMatch(/^https:\/\/notes\.example\.com\/2026\/11\/post-/);
    expect(rows.at(-1)![1]).toBe('https://example.org/');
    expect(text).toMatch(/https:\/\/example\.org\/ .*Upgrading the cluster.* 0 41 41/);
    // Ten bars at most in the chart; two link charts' worth of SVG beyond the funnels and rates.
    expect(chartCount(html)).toBe(2 + 2 + 2 + 1);
  });

  it('says tracking found nothing yet rather than drawing an empty chart', async () => {
    const snapshot = sampleSnapshot({ tracking: 'aggregate', posts: 1 });
    snapshot.posts[0]!.clicks = { links: [], hiddenLinkFollows: 0 };
    const { text } = parse(await renderReport(snapshot));
    expect(text).toContain('No clicks counted yet.');
  });

  it('labels opens approximate, and only when the pixel is on', async () => {
    const withOpens = parse(await renderReport(sampleSnapshot({ opens: true, posts: 1 }))).text;
    expect(withOpens).toContain('Opens (approximate) ≈ 660');
    expect(withOpens).toContain('Approximate: mail providers fetch images');
    const zh = parse(await renderReport(sampleSnapshot({ opens: true, posts: 1, language: 'zh-CN' }))).text;
    expect(zh).toContain('打开（近似值） ≈ 660');
    expect(parse(await renderReport(sampleSnapshot({ posts: 1 }))).text).not.toContain('Opens');
  });

  it('marks each 30-day rate ok, half way or at the limit', async () => {
    const at = async (bounceRate30d: number, complaintRate30d: number) => {
      const snapshot = sampleSnapshot({ posts: 1 });
      return parse(await renderReport({ ...snapshot, rates: { ...snapshot.rates, bounceRate30d, complaintRate30d } }))
        .text;
    };
    expect(await at(0.01, 0.0001)).toMatch(
      /Bounce rate, last 30 days 1% well below the limit.*0\.01% well below the limit/,
    );
    expect(await at(0.03, 0.0006)).toMatch(
      /3% more than half way to the limit: clean the list.*0\.06% more than half way to the limit/,
    );
    expect(await at(0.05, 0.002)).toMatch(/5% at or above the limit.*0\.2% at or above the limit/);
  });

  it('keeps hostile post titles, link URLs and site titles as text: no markup, no script, nothing loaded', async () => {
    const hostile = [
      '</h3><script>alert(1)</script><img src=x onerror=alert(2)>',
      '"><svg onload=alert(3)><a xlink:href="javascript:alert(4)">x</a>',
      "{a|rich} ' & <style>body{display:none}</style>",
    ];
    const snapshot = sampleSnapshot({ tracking: 'aggregate', posts: 3 });
    snapshot.site.title = '<iframe src="https://evil.example/">';
    snapshot.posts.forEach((post, index) => {
      post.title = hostile[index]!;
      post.clicks!.links[0]!.url = 'javascript:alert(5)//<script>alert(6)</script>';
      post.clicks!.links[1]!.url = `https://evil.example/"><img src=x onerror=alert(7)>`;
    });
    const html = await renderReport(snapshot);
    const { elements, text } = parse(html);
    const names = new Set(elements.map((element) => element.name));
    for (const name of ['script', 'img', 'iframe', 'a', 'link', 'object', 'embed'])
      expect(names.has(name), name).toBe(false);
    // The report's own style sheet and the charts' hover rules: nothing from a title.
    expect(elements.filter((element) => element.name === 'style')).toHaveLength(1 + chartCount(html) * 2);
    expect(html).not.toContain('<style>body{display:none}');
    for (const { name, attributes } of elements) {
      for (const [attribute, value] of Object.entries(attributes)) {
        expect(attribute, `${name} ${attribute}`).not.toMatch(/^on|href$|^src$/);
        // A chart's description for screen readers carries the titles, as words.
        if (attribute === 'aria-label') continue;
        expect(value, `${name} ${attribute}`).not.toMatch(/javascript:|evil\.example/);
      }
    }
    // What the editor wrote is still there to read, as written.
    for (const title of hostile) expect(text).toContain(title);
    const described = elements.flatMap((element) => element.attributes['aria-label'] ?? []).join('\n');
    for (const title of hostile) expect(described).toContain(title);
    expect(text).toContain('javascript:alert(5)//<script>alert(6)</script>');
    expect(text).toContain('<iframe src="https://evil.example/">: newsletter report');
  });

  it('loads nothing when opened: everything inline, and a policy that forbids any request', async () => {
    const html = await renderReport(sampleSnapshot({ tracking: 'aggregate', opens: true }));
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    const { elements } = parse(html);
    for (const { name, attributes } of elements) {
      for (const attribute of ['src', 'href', 'xlink:href', 'srcset', 'poster', 'data', 'action'])
        expect(attributes[attribute], `${name} ${attribute}`).toBeUndefined();
    }
    // CSS may only point inside the document (the charts' clip paths).
    for (const [, target] of html.matchAll(/url\(([^)]*)\)/g)) expect(target).toMatch(/^#/);
    expect(html).not.toMatch(/@import|@font-face/);
  });
});
