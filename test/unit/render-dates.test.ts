import { describe, expect, it } from 'vitest';
import { parseJekyllDate } from '../../functions/render/dates';

describe('parseJekyllDate', () => {
  it('refuses a day past the end of its month, and takes February 29 in leap years only', () => {
    expect(parseJekyllDate('2026-02-30')).toBeUndefined();
    expect(parseJekyllDate('2026-04-31')).toBeUndefined();
    expect(parseJekyllDate('2023-02-29')).toBeUndefined();
    expect(parseJekyllDate('1900-02-29 +0800')).toBeUndefined();
    expect(parseJekyllDate('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseJekyllDate('2000-02-29 10:00 Z')?.toISOString()).toBe('2000-02-29T10:00:00.000Z');
  });

  it('keeps years below 100 as written, with or without an offset or a time zone', () => {
    expect(parseJekyllDate('0001-01-01')?.getUTCFullYear()).toBe(1);
    expect(parseJekyllDate('0099-12-31 23:00 +0000')?.toISOString()).toBe('0099-12-31T23:00:00.000Z');
    expect(parseJekyllDate('0050-06-01 08:00', 'Asia/Shanghai')?.getUTCFullYear()).toBe(50);
  });
});
