import { describe, expect, it } from 'vitest';
import { parseDispatchJob, parseSendJob } from '../../functions/delivery/jobs';
import {
  decodeTagValue,
  deliveryMessageId,
  encodeTagValue,
  isHashedTagValue,
  TAG_VALUE_LIMIT,
} from '../../functions/delivery/message-tags';

describe('ids carried in SES tags and Message-IDs', () => {
  it('round-trips Chinese post ids through characters SES tags accept', () => {
    const postId = '2026-11-26-你好-世界';
    const tag = encodeTagValue(postId);
    expect(tag).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeTagValue(tag)).toBe(postId);
  });

  it('refuses tag values it did not write', () => {
    expect(decodeTagValue('')).toBeUndefined();
    expect(decodeTagValue('has space')).toBeUndefined();
    expect(decodeTagValue('YQ')).toBe('a');
    // Not the canonical encoding of anything: someone else's tag.
    expect(decodeTagValue('YR')).toBeUndefined();
  });

  it('keeps the tag of a post with a long Chinese slug within what SES accepts', () => {
    // 80 Chinese characters: 240 bytes of UTF-8, 320 characters of base64url.
    const longId = `2026-11-26-${'长标题'.repeat(26)}题题`;
    const tag = encodeTagValue(longId);
    expect(tag.length).toBeLessThanOrEqual(TAG_VALUE_LIMIT);
    expect(tag).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(isHashedTagValue(tag)).toBe(true);
    // Not decodable, so never read as some other post; stable, so the post can be found again.
    expect(decodeTagValue(tag)).toBeUndefined();
    expect(encodeTagValue(longId)).toBe(tag);
    expect(encodeTagValue(`${longId}二`)).not.toBe(tag);
    expect(deliveryMessageId(longId, 'abc')).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    // Ids that fit keep their readable encoding.
    expect(isHashedTagValue(encodeTagValue('2026-11-26-你好-世界'))).toBe(false);
  });

  it('gives each copy a stable Message-ID local part', () => {
    expect(deliveryMessageId('2026-11-26-post', 'abc')).toBe(deliveryMessageId('2026-11-26-post', 'abc'));
    expect(deliveryMessageId('2026-11-26-post', 'abc')).not.toBe(deliveryMessageId('2026-11-26-post', 'abd'));
    expect(deliveryMessageId('2026-11-26-文章', 'abc')).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });
});

describe('queue messages', () => {
  it('accepts only well-formed jobs, so a bad message is dropped instead of retried forever', () => {
    const job = (fields: object) =>
      JSON.stringify({
        postId: 'p',
        bucket: 0,
        buckets: 4,
        subscriberIds: ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB'],
        ...fields,
      });
    expect(parseSendJob(job({}))).toEqual({
      postId: 'p',
      bucket: 0,
      buckets: 4,
      subscriberIds: ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB'],
    });
    expect(parseSendJob(job({ subscriberIds: [1] }))).toBeUndefined();
    expect(
      parseSendJob(job({ subscriberIds: ['AAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAA'] }))?.subscriberIds,
    ).toEqual(['AAAAAAAAAAAAAAAAAAAAAA']);
    // An id from another bucket would be claimed in the wrong ledger.
    expect(parseSendJob(job({ subscriberIds: ['AAAAAAAAAAAAAAAAAAAAAA', 'zzzzzzzzzzzzzzzzzzzzzz'] }))).toBeUndefined();
    expect(parseSendJob(job({ bucket: 4 }))).toBeUndefined();
    expect(parseSendJob(job({ buckets: 0 }))).toBeUndefined();
    expect(parseSendJob(job({ bucket: undefined }))).toBeUndefined();
    expect(parseSendJob('{"postId":"p"}')).toBeUndefined();
    expect(parseSendJob('not json')).toBeUndefined();
    expect(parseDispatchJob('{"postId":"p","extra":1}')).toEqual({ postId: 'p' });
    expect(parseDispatchJob('null')).toBeUndefined();
  });
});
