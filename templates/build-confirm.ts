import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import mjml2html from 'mjml';

/**
 * Turns templates/confirm.mjml into templates/confirm.generated.ts, and welcome.mjml into
 * welcome.generated.ts: modules holding the HTML with `{{name}}` slots. The API Lambda imports
 * them, so mjml (0.7 s to load) stays out of its bundle. Run `npm run templates` after editing
 * a .mjml; a unit test fails when a generated file is stale.
 */
export const CONFIRM_MJML = fileURLToPath(new URL('./confirm.mjml', import.meta.url));
export const CONFIRM_GENERATED = fileURLToPath(new URL('./confirm.generated.ts', import.meta.url));
export const WELCOME_MJML = fileURLToPath(new URL('./welcome.mjml', import.meta.url));
export const WELCOME_GENERATED = fileURLToPath(new URL('./welcome.generated.ts', import.meta.url));

async function buildTemplateModule(mjmlFile: string, name: string, constant: string): Promise<string> {
  const source = await readFile(mjmlFile, 'utf8');
  const result = await mjml2html(source, { validationLevel: 'strict', filePath: mjmlFile });
  return `// Generated from ${name}.mjml by \`npm run templates\` (templates/build-confirm.ts). Do not edit.
export const ${constant} = ${JSON.stringify(result.html)};
`;
}

export function buildConfirmModule(): Promise<string> {
  return buildTemplateModule(CONFIRM_MJML, 'confirm', 'CONFIRM_EMAIL_HTML');
}

export function buildWelcomeModule(): Promise<string> {
  return buildTemplateModule(WELCOME_MJML, 'welcome', 'WELCOME_EMAIL_HTML');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, build] of [
    [CONFIRM_GENERATED, buildConfirmModule],
    [WELCOME_GENERATED, buildWelcomeModule],
  ] as const) {
    await writeFile(file, await build());
    console.log(`wrote ${file}`);
  }
}
