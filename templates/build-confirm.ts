import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import mjml2html from 'mjml';

/**
 * Turns templates/confirm.mjml into templates/confirm.generated.ts, a module holding the HTML
 * with `{{name}}` slots. The API Lambda imports that module, so mjml (0.7 s to load) stays out
 * of its bundle. Run `npm run templates` after editing the .mjml; a unit test fails when the
 * generated file is stale.
 */
export const CONFIRM_MJML = fileURLToPath(new URL('./confirm.mjml', import.meta.url));
export const CONFIRM_GENERATED = fileURLToPath(new URL('./confirm.generated.ts', import.meta.url));

export async function buildConfirmModule(): Promise<string> {
  const source = await readFile(CONFIRM_MJML, 'utf8');
  const result = await mjml2html(source, { validationLevel: 'strict', filePath: CONFIRM_MJML });
  return `// Generated from confirm.mjml by \`npm run templates\` (templates/build-confirm.ts). Do not edit.
export const CONFIRM_EMAIL_HTML = ${JSON.stringify(result.html)};
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(CONFIRM_GENERATED, await buildConfirmModule());
  console.log(`wrote ${CONFIRM_GENERATED}`);
}
