/**
 * Random bytes from a fixed seed (mulberry32), so a test that needs many ids gets the same ones
 * on every run and a failure can be replayed.
 */
export function seededBytes(seed: number): (length: number) => Buffer {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return (value ^ (value >>> 14)) >>> 0;
  };
  return (length) => {
    const bytes = Buffer.alloc(length);
    for (let index = 0; index < length; index++) bytes[index] = next() & 0xff;
    return bytes;
  };
}
