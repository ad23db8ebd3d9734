/**
 * The head every newsletter email shares (posts and digests): attributes, colour scheme and the
 * dark-mode overrides. Colours: light text #1f2328 on #ffffff (15:1), muted #4b5563 on #f3f4f6
 * (7:1), links #0b57d0 (6.3:1); dark mode swaps to #e6edf3 on #161b22 with links #8ab4f8.
 */
export const EMAIL_HEAD_MJML = String.raw`    <mj-attributes>
      <mj-all font-family="{{{fontStack}}}" />
      <mj-text font-size="16px" line-height="1.75" color="#1f2328" padding="0 24px" />
      <mj-section padding="0" />
      <mj-column padding="0" />
    </mj-attributes>
    <mj-raw>
      <meta name="color-scheme" content="light dark">
      <meta name="supported-color-schemes" content="light dark">
    </mj-raw>
    <mj-style>
      :root { color-scheme: light dark; supported-color-schemes: light dark; }
      .pl-preheader { display: none !important; }
      .pl-prose { word-break: break-word; overflow-wrap: anywhere; }
      .pl-prose img { max-width: 100% !important; height: auto !important; }
      .pl-prose pre { white-space: pre-wrap !important; }
      @media only screen and (max-width: 480px) {
        .pl-prose { font-size: 16px !important; }
        .pl-title h1 { font-size: 23px !important; }
      }
      @media (prefers-color-scheme: dark) {
        body, .pl-page, .pl-outer > table, .pl-outer > table > tbody > tr > td { background-color: #0d1117 !important; }
        .pl-card, .pl-card > table, .pl-card > table > tbody > tr > td { background-color: #161b22 !important; }
        .pl-text > div, .pl-text h1, .pl-text h2, .pl-text h3, .pl-text h4, .pl-text th, .pl-text td { color: #e6edf3 !important; }
        .pl-muted > div, .pl-muted a, .pl-quote, .pl-date { color: #b1bac4 !important; }
        .pl-text a, .pl-link { color: #8ab4f8 !important; }
        .pl-code, .pl-inline-code { background-color: #0d1117 !important; color: #e6edf3 !important; }
        .pl-cell { border-color: #30363d !important; }
        .pl-rule { border-top-color: #30363d !important; }
      }
    </mj-style>
`;

/**
 * The footer every newsletter email shares: why the reader gets it, the postal address, the
 * one-click unsubscribe link and a link back to the web (`webUrl`, `viewOnWeb`: the post, or
 * the blog for a digest). Links a reader needs in every email go here, once.
 */
export const EMAIL_FOOTER_MJML = String.raw`    <mj-section padding="20px 12px 32px" css-class="pl-outer">
      <mj-column>
        <mj-text css-class="pl-muted" font-size="13px" line-height="1.6" color="#4b5563" padding="0 12px">
          <div lang="{{footerLang}}">
          <p style="margin:0 0 8px;">{{whyYouReceive}}</p>
          <p style="margin:0 0 8px;">{{postalAddress}}</p>
          <p style="margin:0;"><a href="{{unsubscribeUrl}}" style="color:#4b5563;text-decoration:underline;">{{unsubscribe}}</a>
          <span aria-hidden="true">&#183;</span>
          <a href="{{preferencesUrl}}" style="color:#4b5563;text-decoration:underline;">{{manageSubscription}}</a>
          <span aria-hidden="true">&#183;</span>
          <a href="{{webUrl}}" style="color:#4b5563;text-decoration:underline;">{{footerViewOnWeb}}</a></p>
          </div>
        </mj-text>
      </mj-column>
    </mj-section>
`;

/**
 * The body's opening every newsletter email shares: the hidden preheader, then a line above the
 * card with the blog's name and `links` (a post's "view on the web"; none in the digest).
 */
export function emailMasthead(links = ''): string {
  return String.raw`  <mj-body background-color="#f3f4f6" width="640px" css-class="pl-page">
    <mj-raw>
      <div class="pl-preheader" style="display:none;max-height:0;max-width:0;overflow:hidden;mso-hide:all;">{{preheader}}</div>
    </mj-raw>
    <mj-section padding="16px 12px 8px" css-class="pl-outer">
      <mj-column>
        <mj-text css-class="pl-muted" font-size="13px" line-height="1.6" color="#4b5563" padding="0 12px">
          <a href="{{siteUrl}}" style="color:#4b5563;text-decoration:none;font-weight:600;">{{siteTitle}}</a>
${links}        </mj-text>
      </mj-column>
    </mj-section>
`;
}

/**
 * The MJML of a post email. Slots: `{{name}}` is filled with HTML-escaped text, `{{{name}}}`
 * with markup the renderer built. Filled in one pass, so a post's own `{{ … }}` (kept in code
 * blocks) is never read as a slot.
 *
 * Each post's values go only where mjml passes text through verbatim: inside the content of an
 * mj-text, mj-raw or mj-title, or in a plain string attribute (href, src, alt). The renderer
 * compiles this template once per shape with markers in those places and fills the cached HTML;
 * test/unit/email-skeleton.test.ts fails if a slot moves somewhere mjml transforms it.
 *
 * A TypeScript module rather than a `.mjml` file so every bundle (CLI, ingest Lambda) carries it
 * without loader configuration.
 *
 * Colours: light text #1f2328 on #ffffff (15:1), muted #4b5563 on #f3f4f6 (7:1), links #0b57d0
 * (6.3:1); dark mode swaps to #e6edf3 on #161b22 with links #8ab4f8. The preheader is hidden by
 * display and zero height, never by colour or a tiny font: SpamAssassin scores white-on-white
 * text (HTML_FONT_LOW_CONTRAST) and a 0-1px font before a word (FONT_INVIS_*) as hidden text.
 */
export const POST_EMAIL_MJML = String.raw`<mjml lang="{{lang}}">
  <mj-head>
    <mj-title>{{title}}</mj-title>
${EMAIL_HEAD_MJML}  </mj-head>
${emailMasthead(String.raw`          <span aria-hidden="true">&#183;</span>
          <a href="{{webUrl}}" style="color:#4b5563;text-decoration:underline;">{{viewOnWeb}}</a>
`)}    <mj-section background-color="#ffffff" padding="28px 0 12px" border-radius="8px" css-class="pl-card">
      <mj-column>
        <mj-text css-class="pl-text pl-title" padding="0 24px">
          <h1 style="margin:0 0 8px;font-size:26px;line-height:1.35;font-weight:700;">{{title}}</h1>
          <p class="pl-date" style="margin:0 0 16px;font-size:14px;color:#57606a;">{{dateLine}}</p>
        </mj-text>
        {{{image}}}
        <mj-text css-class="pl-text pl-prose" padding="8px 24px 8px">{{{body}}}</mj-text>
        {{{continueReading}}}
      </mj-column>
    </mj-section>
${EMAIL_FOOTER_MJML}  </mj-body>
</mjml>`;

/** Shown when a post is cut to stay under Gmail's clipping size. */
export const CONTINUE_READING_MJML = String.raw`<mj-text css-class="pl-text pl-muted" padding="8px 24px 4px" font-size="14px" color="#4b5563">
          <p style="margin:0;">{{truncatedNotice}}</p>
        </mj-text>
        <mj-button href="{{webUrl}}" background-color="#0b57d0" color="#ffffff" font-size="16px" font-weight="600" border-radius="6px" inner-padding="12px 20px" padding="12px 24px 20px" align="left">{{continueReading}}</mj-button>`;

/** The front-matter image, full width of the card. */
export const POST_IMAGE_MJML = String.raw`<mj-image src="{{src}}" alt="{{alt}}" padding="0 24px 16px" fluid-on-mobile="true" />`;

/** Serif-free system fonts first, then the common CJK faces on macOS, Windows and Linux. */
export const FONT_STACK =
  "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', sans-serif";

export const MONOSPACE_STACK = "SFMono-Regular, Menlo, Consolas, 'Liberation Mono', 'Noto Sans Mono CJK SC', monospace";
