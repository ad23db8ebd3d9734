import { describe, expect, it } from 'vitest';
import { parseShellExports } from '../../functions/cli/doctor-command';
import { shellExports } from '../../infra/config';

describe('the doctor reads the CliEnvironment output back', () => {
  it('returns every value shellExports wrote, quotes, spaces and Chinese included', () => {
    const environment = {
      PUSHLETTER_SITE_TITLE: "Tom's blog: notes & links",
      PUSHLETTER_FROM_NAME: '小明的博客',
      PUSHLETTER_POSTAL_ADDRESS: "1 O'Connell Street, Dublin 'D01'",
      PUSHLETTER_MAX_SEND_RATE: '14',
      PUSHLETTER_EDITORS: 'a@example.org,b@example.org',
    };
    expect(parseShellExports(shellExports(environment))).toEqual(environment);
  });
});
