import { type ReaderLanguage, readerLanguage } from '../../templates/reader-strings';
import { escapeHtml } from '../commons/html';
import { fill, REPORT_STRINGS, type ReportStrings } from './report-strings';
import type { ListDay, PostStats, StatsSnapshot } from './snapshot';

/**
 * `pushletter report`: a StatsSnapshot as one HTML file that needs nothing else when opened (no
 * script, font, image or style from anywhere; its Content-Security-Policy forbids them all). The
 * charts are SVG rendered here by echarts, once in light and once in dark colours; the page
 * shows the pair's member that matches the reader's colour scheme. Charts are drawn at a
 * phone's width and scale down or up with the column, so their words stay legible at 375 px.
 */
export async function renderReport(snapshot: StatsSnapshot): Promise<string> {
  const language: ReaderLanguage = readerLanguage(snapshot.site.language) ?? 'en';
  const report = new Report(snapshot, REPORT_STRINGS[language], await loadEcharts());
  return report.html();
}

type ECharts = typeof import('echarts/core');
let echartsLoading: Promise<ECharts> | undefined;

/**
 * echarts, with the parts the report draws with, loaded on first use: imported statically, the
 * CLI's bundle would load it for every command.
 */
function loadEcharts(): Promise<ECharts> {
  echartsLoading ??= Promise.all([
    import('echarts/core'),
    import('echarts/charts'),
    import('echarts/components'),
    import('echarts/renderers'),
  ]).then(([core, charts, components, renderers]) => {
    core.use([
      charts.BarChart,
      charts.LineChart,
      components.GridComponent,
      components.LegendComponent,
      components.MarkLineComponent,
      renderers.SVGRenderer,
    ]);
    return core;
  });
  return echartsLoading;
}

const CHART_WIDTH = 320;
// Single quotes: echarts writes the family into a double-quoted style attribute as it is.
const FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
/** Bars in the link chart; the table under it lists every link. */
const TOP_LINKS = 10;
const DAY_MS = 86_400_000;
/** Width of the names beside horizontal bars. */
const LABEL_COLUMN = 112;

interface Palette {
  ink: string;
  muted: string;
  grid: string;
  blue: string;
  green: string;
  red: string;
  orange: string;
  grey: string;
}

// Text colours keep at least 4.5:1 against the card behind the charts (--card below).
const LIGHT: Palette = {
  ink: '#1f2328',
  muted: '#57606a',
  grid: '#d0d7de',
  blue: '#0969da',
  green: '#1a7f37',
  red: '#cf222e',
  orange: '#a34400',
  grey: '#8c959f',
};
const DARK: Palette = {
  ink: '#e6edf3',
  muted: '#9198a1',
  grid: '#30363d',
  blue: '#4493f8',
  green: '#3fb950',
  red: '#f85149',
  orange: '#db6d28',
  grey: '#6e7681',
};

const STYLE = `
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1f2328;--muted:#57606a;--card:#f6f8fa;--line:#d0d7de;--ok:#1a7f37;--near:#7d4e00;--over:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#161b22;--line:#30363d;--ok:#3fb950;--near:#d29922;--over:#f85149}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 ${FONT}}
main{max-width:1120px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;line-height:1.25;margin:8px 0}
h2{font-size:1.25rem;margin:32px 0 12px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:0 0 4px}
h1,h2,h3,p,td,th,dd,dt,figcaption{overflow-wrap:anywhere}
p{margin:4px 0}
.muted{color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,340px),1fr));gap:16px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:16px;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px;min-width:0}
.figure{font-size:1.8rem;font-weight:600;line-height:1.2}
.ok{color:var(--ok)}.near{color:var(--near)}.over{color:var(--over)}
figure{margin:8px 0 0}
figcaption{font-size:.9rem;color:var(--muted)}
.chart svg{display:block;width:100%;height:auto}
.chart .dark{display:none}
@media (prefers-color-scheme:dark){.chart .light{display:none}.chart .dark{display:block}}
dl{display:grid;grid-template-columns:1fr auto;gap:2px 12px;margin:8px 0 0;font-size:.95rem}
dt{color:var(--muted)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;font-size:.9rem;margin-top:8px}
th,td{text-align:left;padding:4px;border-bottom:1px solid var(--line);vertical-align:top}
td.number,th.number{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal;white-space:nowrap}
.table{overflow-x:auto}
footer{margin:32px 0 16px;font-size:.9rem;color:var(--muted)}
`;

class Report {
  private readonly number: Intl.NumberFormat;
  private readonly percent: Intl.NumberFormat;
  /** The posts oldest first, as the charts read left to right and top to bottom. */
  private readonly sentPosts: PostStats[];

  constructor(
    private readonly snapshot: StatsSnapshot,
    private readonly words: ReportStrings,
    private readonly echarts: ECharts,
  ) {
    this.number = new Intl.NumberFormat(words.htmlLang);
    this.percent = new Intl.NumberFormat(words.htmlLang, { style: 'percent', maximumSignificantDigits: 2 });
    this.sentPosts = snapshot.posts.filter((post) => post.sent > 0).reverse();
  }

  html(): string {
    const { words, snapshot } = this;
    const title = fill(words.title, { site: snapshot.site.title });
    return [
      '<!doctype html>',
      `<html lang="${escapeHtml(words.htmlLang)}">`,
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      '<meta name="color-scheme" content="light dark">',
      // Opened from a disk, the file may load nothing: no script, font, image or stylesheet.
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
      `<title>${escapeHtml(title)}</title>`,
      `<style>${STYLE}</style>`,
      '</head>',
      '<body><main>',
      `<h1>${escapeHtml(title)}</h1>`,
      `<p class="muted">${escapeHtml(fill(words.generated, { date: dateTime(snapshot.generatedAt) }))} ${escapeHtml(snapshot.tracking === 'aggregate' ? words.trackingAggregate : words.trackingOff)}</p>`,
      this.rates(),
      this.list(),
      this.posts(),
      this.links(),
      `<footer>${escapeHtml(words.privacy)}</footer>`,
      '</main></body>',
      '</html>',
      '',
    ].join('\n');
  }

  private rates(): string {
    const { words, snapshot } = this;
    const { rates } = snapshot;
    const limits = rates.limits;
    const sesBounce = fill(words.rates.sesReview, { limit: this.percent.format(limits.sesBounceReview) });
    const sesComplaint = fill(words.rates.sesReview, { limit: this.percent.format(limits.sesComplaintReview) });
    const gmail = fill(words.rates.gmailSpam, { limit: this.percent.format(limits.gmailSpam) });
    const card = (heading: string, rate: number, limit: number, notes: string[]) => {
      const level = rate >= limit ? 'over' : rate >= limit / 2 ? 'near' : 'ok';
      const count = Math.round(rate * rates.sent30d);
      const body =
        rates.sent30d === 0
          ? `<p>${escapeHtml(words.rates.nothingSent)}</p>`
          : [
              `<p class="figure ${level}">${escapeHtml(this.percent.format(rate))}</p>`,
              `<p class="${level}">${escapeHtml(words.rates[level])}</p>`,
              `<p class="muted">${escapeHtml(fill(words.rates.ofSent, { count: this.number.format(count), sent: this.number.format(rates.sent30d) }))}</p>`,
            ].join('');
      const lines = notes.map((note) => `<p class="muted">${escapeHtml(note)}</p>`).join('');
      return `<div class="card"><h3>${escapeHtml(heading)}</h3>${body}${lines}</div>`;
    };
    const cards = [
      card(words.rates.bounce30d, rates.bounceRate30d, limits.sesBounceReview, [sesBounce]),
      card(words.rates.complaint30d, rates.complaintRate30d, limits.sesComplaintReview, [sesComplaint, gmail]),
    ];
    const charts =
      this.sentPosts.length === 0
        ? []
        : [
            this.rateChart(words.rates.perPostBounce, (post) => post.bounced.permanent / post.sent, [
              { value: limits.sesBounceReview, label: sesBounce, color: 'red' },
            ]),
            this.rateChart(words.rates.perPostComplaint, (post) => post.complained / post.sent, [
              { value: limits.sesComplaintReview, label: sesComplaint, color: 'red' },
              { value: limits.gmailSpam, label: gmail, color: 'orange' },
            ]),
          ].map((chart) => `<div class="card">${chart}</div>`);
    return section(words.rates.heading, `<div class="grid">${[...cards, ...charts].join('')}</div>`);
  }

  private rateChart(
    caption: string,
    rateOf: (post: PostStats) => number,
    lines: { value: number; label: string; color: 'red' | 'orange' }[],
  ): string {
    const posts = this.sentPosts;
    // Percent units on the axis, so the limits read as the numbers people quote.
    const values = posts.map((post) => toPercent(rateOf(post)));
    const highest = Math.max(...values, ...lines.map((line) => toPercent(line.value)));
    return this.chart(
      caption,
      70 + posts.length * 28,
      (palette) => ({
        grid: { outerBoundsMode: 'none', left: LABEL_COLUMN + 8, right: 24, top: 36, bottom: 28 },
        xAxis: {
          type: 'value',
          max: Number((highest * 1.15).toPrecision(3)),
          splitNumber: 3,
          axisLabel: {
            color: palette.muted,
            hideOverlap: true,
            // The axis ends just past the highest bar or limit, seldom at a round number.
            showMaxLabel: false,
            formatter: (value: number) => `${Number(value.toPrecision(6))}%`,
          },
          splitLine: { lineStyle: { color: palette.grid } },
        },
        yAxis: labelAxis(
          posts.map((post) => post.title),
          palette,
        ),
        series: [
          {
            type: 'bar',
            data: values,
            barMaxWidth: 16,
            itemStyle: { color: palette.blue },
            markLine: {
              symbol: 'none',
              silent: true,
              data: lines.map((line) => ({
                xAxis: toPercent(line.value),
                lineStyle: { color: palette[line.color], type: 'dashed', width: 1.5 },
                label: {
                  formatter: `${this.percent.format(line.value)}`,
                  color: palette[line.color],
                  position: 'start',
                },
              })),
            },
          },
        ],
      }),
      posts.map((post) => `${post.title} ${this.percent.format(rateOf(post))}`).join('; '),
    );
  }

  private list(): string {
    const { words, snapshot } = this;
    const days = snapshot.list;
    if (days.length === 0) return section(words.list.heading, `<p>${escapeHtml(words.list.empty)}</p>`);
    const cutoff = new Date(Date.parse(snapshot.generatedAt) - 29 * DAY_MS).toISOString().slice(0, 10);
    const recent = days.filter((day) => day.date >= cutoff);
    const sum = (name: keyof Omit<ListDay, 'date' | 'active'>) => recent.reduce((total, day) => total + day[name], 0);
    const figure = (label: string, value: number, note?: string) =>
      `<div class="card"><h3>${escapeHtml(label)}</h3><p class="figure">${escapeHtml(this.number.format(value))}</p>${note ? `<p class="muted">${escapeHtml(note)}</p>` : ''}</div>`;
    const labels = days.map((day) => day.date.slice(5));
    const active = this.chart(words.list.activeChart, 220, (palette) => ({
      grid: { outerBoundsMode: 'same', outerBoundsContain: 'axisLabel', left: 8, right: 16, top: 16, bottom: 8 },
      xAxis: categoryAxis(labels, palette),
      yAxis: valueAxis(palette),
      series: [
        {
          type: 'line',
          name: words.list.active,
          data: days.map((day) => day.active),
          showSymbol: days.length <= 31,
          lineStyle: { color: palette.blue, width: 2 },
          itemStyle: { color: palette.blue },
          areaStyle: { color: palette.blue, opacity: 0.12 },
        },
      ],
    }));
    // Signups rise above the axis and unsubscribes hang below it, one column per day: side by
    // side, a season of days would leave each bar a hairline.
    const changes = this.chart(words.list.changesChart, 240, (palette) => ({
      legend: legend(palette),
      grid: { outerBoundsMode: 'same', outerBoundsContain: 'axisLabel', left: 8, right: 16, top: 56, bottom: 8 },
      xAxis: categoryAxis(labels, palette),
      yAxis: {
        ...valueAxis(palette),
        axisLabel: { color: palette.muted, formatter: (value: number) => this.number.format(Math.abs(value)) },
      },
      series: [
        {
          type: 'bar',
          stack: 'change',
          name: words.list.signups,
          data: days.map((day) => day.signups),
          itemStyle: { color: palette.green },
        },
        {
          type: 'bar',
          stack: 'change',
          name: words.list.unsubscribes,
          data: days.map((day) => -day.unsubscribes),
          itemStyle: { color: palette.red },
        },
      ],
    }));
    const body = [
      '<div class="figures">',
      figure(words.list.active, days.at(-1)!.active),
      figure(words.list.signups, sum('signups'), words.list.last30),
      figure(words.list.confirmations, sum('confirmations'), words.list.last30),
      figure(words.list.unsubscribes, sum('unsubscribes'), words.list.last30),
      '</div>',
      `<div class="grid"><div class="card">${active}</div><div class="card">${changes}</div></div>`,
    ].join('');
    return section(words.list.heading, body);
  }

  private posts(): string {
    const { words, snapshot } = this;
    if (snapshot.posts.length === 0) return section(words.posts.heading, `<p>${escapeHtml(words.posts.empty)}</p>`);
    return section(
      words.posts.heading,
      `<div class="grid">${snapshot.posts.map((post) => this.post(post)).join('')}</div>`,
    );
  }

  private post(post: PostStats): string {
    const { words } = this;
    const clicks = post.clicks ? post.clicks.links.reduce((total, link) => total + link.estimatedHuman, 0) : undefined;
    const stages: [string, number, keyof Palette][] = [
      [words.posts.recipients, post.recipients, 'grey'],
      [words.posts.sent, post.sent, 'blue'],
      [words.posts.delivered, post.delivered, 'green'],
      ...(clicks === undefined ? [] : [[words.posts.clicks, clicks, 'orange'] as [string, number, keyof Palette]]),
    ];
    const caption = clicks === undefined ? words.posts.funnel : words.posts.funnelWithClicks;
    const funnel = this.chart(
      caption,
      24 + stages.length * 36,
      (palette) => ({
        // The right margin holds the figures written after the bars.
        grid: { outerBoundsMode: 'none', left: LABEL_COLUMN + 8, right: 96, top: 8, bottom: 8 },
        xAxis: { type: 'value', show: false, max: Math.max(1, ...stages.map(([, value]) => value)) },
        yAxis: labelAxis(
          stages.map(([label]) => label),
          palette,
        ),
        series: [
          {
            type: 'bar',
            barWidth: 18,
            data: stages.map(([, value, color]) => ({ value, itemStyle: { color: palette[color] } })),
            label: {
              show: true,
              position: 'right',
              color: palette.ink,
              formatter: (parameters: { value: unknown }) => this.share(Number(parameters.value), post.recipients),
            },
          },
        ],
      }),
      stages.map(([label, value]) => `${label} ${this.share(value, post.recipients)}`).join(', '),
    );
    const notFor = Object.entries(post.notFor).filter(([, count]) => count > 0);
    const rows: [string, string][] = [
      [words.posts.bouncedPermanent, this.number.format(post.bounced.permanent)],
      [words.posts.bouncedTransient, this.number.format(post.bounced.transient)],
      [words.posts.complained, this.number.format(post.complained)],
      [words.posts.rejected, this.number.format(post.rejected)],
      [words.posts.delayed, this.number.format(post.delayed)],
      [words.posts.unsubscribed, this.number.format(post.unsubscribed)],
      ...notFor.map(
        ([reason, count]) =>
          [
            fill(words.posts.notFor, { reason: words.posts.notForReasons[reason] ?? reason }),
            this.number.format(count),
          ] as [string, string],
      ),
      ...(post.opens === undefined
        ? []
        : [[words.posts.opens, `≈ ${this.number.format(post.opens)}`] as [string, string]]),
    ];
    const when = post.sentAt ? fill(words.posts.sentAt, { date: post.sentAt.slice(0, 10) }) : words.posts.notSentYet;
    return [
      '<article class="card">',
      `<h3>${escapeHtml(post.title)}</h3>`,
      `<p class="muted">${escapeHtml(when)}</p>`,
      funnel,
      `<dl>${rows.map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`,
      post.opens === undefined ? '' : `<p class="muted">${escapeHtml(words.posts.opensNote)}</p>`,
      '</article>',
    ].join('');
  }

  private links(): string {
    const { words, snapshot } = this;
    if (snapshot.tracking !== 'aggregate') return section(words.links.heading, `<p>${escapeHtml(words.links.off)}</p>`);
    const links = snapshot.posts
      .flatMap((post) => (post.clicks?.links ?? []).map((link) => ({ ...link, post: post.title })))
      .filter((link) => link.total > 0)
      .sort((a, b) => b.estimatedHuman - a.estimatedHuman || b.total - a.total);
    if (links.length === 0)
      return section(
        words.links.heading,
        `<p>${escapeHtml(words.links.empty)}</p><p class="muted">${escapeHtml(words.links.estimate)}</p>`,
      );
    const top = links.slice(0, TOP_LINKS);
    const machines = (link: (typeof links)[number]) => link.total - link.estimatedHuman;
    const bars = this.chart(words.links.chart, 70 + top.length * 30, (palette) => ({
      legend: legend(palette),
      grid: { outerBoundsMode: 'none', left: LABEL_COLUMN + 8, right: 16, top: 56, bottom: 28 },
      xAxis: { ...valueAxis(palette), splitNumber: 3 },
      yAxis: labelAxis(
        top.map((link, index) => `${index + 1} ${shortUrl(link.url)}`),
        palette,
      ),
      series: [
        {
          type: 'bar',
          name: words.links.human,
          stack: 'clicks',
          barMaxWidth: 16,
          data: top.map((link) => link.estimatedHuman),
          itemStyle: { color: palette.blue },
        },
        {
          type: 'bar',
          name: words.links.machine,
          stack: 'clicks',
          barMaxWidth: 16,
          data: top.map(machines),
          itemStyle: { color: palette.grey },
        },
      ],
    }));
    const head = [words.links.link, words.links.humanColumn, words.links.machine, words.links.total];
    const table = [
      '<div class="table"><table>',
      `<thead><tr>${head.map((label, index) => `<th${index >= 1 ? ' class="number"' : ''}>${escapeHtml(label)}</th>`).join('')}</tr></thead>`,
      '<tbody>',
      // A URL is shown, never linked: opening the report must not lead anywhere by itself.
      ...links.map(
        (link, index) =>
          `<tr><td>${index + 1} ${escapeHtml(link.url)}<br><span class="muted">${escapeHtml(link.post)}</span></td><td class="number">${escapeHtml(this.number.format(link.estimatedHuman))}</td><td class="number">${escapeHtml(this.number.format(machines(link)))}</td><td class="number">${escapeHtml(this.number.format(link.total))}</td></tr>`,
      ),
      '</tbody></table></div>',
    ].join('');
    return section(
      words.links.heading,
      `<div class="card">${bars}${table}<p class="muted">${escapeHtml(words.links.estimate)}</p></div>`,
    );
  }

  /**
   * One chart as a pair of SVGs (light, dark), captioned. The SVGs are hidden from screen
   * readers; `described`, when given, reads in their place (the figures the chart shows).
   */
  private chart(
    caption: string,
    height: number,
    option: (palette: Palette) => ChartOption,
    described?: string,
  ): string {
    const variants = (
      [
        ['light', LIGHT],
        ['dark', DARK],
      ] as const
    ).map(([scheme, palette]) => {
      const instance = this.echarts.init(null, null, { renderer: 'svg', ssr: true, width: CHART_WIDTH, height });
      try {
        instance.setOption({ animation: false, textStyle: { fontFamily: FONT, fontSize: 12 }, ...option(palette) });
        return `<div class="${scheme}" aria-hidden="true">${instance.renderToSVGString()}</div>`;
      } finally {
        instance.dispose();
      }
    });
    const label = described === undefined ? '' : ` role="img" aria-label="${escapeHtml(`${caption}: ${described}`)}"`;
    return `<figure class="chart"${label}><figcaption>${escapeHtml(caption)}</figcaption>${variants.join('')}</figure>`;
  }

  /** `1,234 (98%)`: a funnel stage and its share of the post's recipients. */
  private share(value: number, of: number): string {
    const count = this.number.format(value);
    return of > 0 ? `${count} (${this.percent.format(value / of)})` : count;
  }
}

type ChartOption = Record<string, unknown>;

/**
 * Names on the left of horizontal bars, left-aligned in a column of fixed width and cut to fit:
 * echarts measures text without the browser's fonts, so right-aligned names it measured too
 * short would run off the chart's left edge.
 */
function labelAxis(labels: string[], palette: Palette): ChartOption {
  return {
    type: 'category',
    inverse: true,
    data: labels,
    axisLabel: {
      color: palette.ink,
      align: 'left',
      margin: LABEL_COLUMN,
      width: LABEL_COLUMN - 16,
      overflow: 'truncate',
    },
    axisLine: { lineStyle: { color: palette.grid } },
    axisTick: { show: false },
  };
}

function categoryAxis(labels: string[], palette: Palette): ChartOption {
  return {
    type: 'category',
    data: labels,
    axisLabel: { color: palette.muted, hideOverlap: true },
    axisLine: { lineStyle: { color: palette.grid } },
    axisTick: { show: false },
  };
}

function valueAxis(palette: Palette): ChartOption {
  return {
    type: 'value',
    minInterval: 1,
    axisLabel: { color: palette.muted },
    splitLine: { lineStyle: { color: palette.grid } },
  };
}

function section(heading: string, body: string): string {
  return `<section><h2>${escapeHtml(heading)}</h2>${body}</section>`;
}

/** A rate as a percentage, without the float noise of `0.07 * 100`. */
function toPercent(rate: number): number {
  return Number((rate * 100).toPrecision(6));
}

/**
 * What tells a post's links apart in a narrow label: the last part of the path
 * (`https://notes.example.com/2026/11/autumn/` → `autumn`), or the host when there is none.
 */
function shortUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const segment = parsed.pathname.split('/').filter(Boolean).at(-1);
    return segment ? safeDecode(segment) : parsed.host;
  } catch {
    return url;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** One entry a line: echarts measures legend text without the browser's fonts. */
function legend(palette: Palette): ChartOption {
  return { orient: 'vertical', left: 0, top: 0, itemGap: 6, textStyle: { color: palette.ink } };
}

function dateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
