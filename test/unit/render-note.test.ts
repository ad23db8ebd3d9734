import { describe, expect, it } from 'vitest';
import { publicUrlNote } from '../../functions/cli/render-command';

describe('the note render prints about PUSHLETTER_PUBLIC_URL', () => {
  it('says nothing for the local stack or an https address', () => {
    for (const url of [
      'http://localhost:3000',
      'http://127.0.0.1:8080',
      'http://[::1]:3000',
      'https://news.example.cn',
    ])
      expect(publicUrlNote(url), url).toBeUndefined();
  });

  it('warns when links would reach readers over plain http', () => {
    expect(publicUrlNote('http://tunnel.example.net')).toMatch(
      /^note: unsubscribe links use PUSHLETTER_PUBLIC_URL=http:\/\/tunnel\.example\.net; Gmail and Yahoo only honour one-click unsubscribe over https/,
    );
  });
});
