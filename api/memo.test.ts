import { describe, expect, it } from 'vitest';
import { Memo } from './memo.ts';

describe('Memo', () => {
  it('shares one computation between concurrent callers and remembers it for its TTL', async () => {
    const memo = new Memo<number>(1000);
    let calls = 0;
    const compute = async () => {
      const n = ++calls;
      await new Promise((r) => setTimeout(r, 20));
      return n;
    };
    expect(await Promise.all([memo.get('a', compute), memo.get('a', compute), memo.get('b', compute)])).toEqual([
      1, 1, 2,
    ]);
    expect(await memo.get('a', compute)).toBe(1);
    expect(await memo.get('a', compute, Date.now() + 2000)).toBe(3);
  });

  it('does not remember failures', async () => {
    const memo = new Memo<string>(1000);
    await expect(memo.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await memo.get('k', async () => 'up')).toBe('up');
  });

  it('with a TTL of 0 only shares computations in flight', async () => {
    const memo = new Memo<number>(0);
    let calls = 0;
    const compute = async () => ++calls;
    await Promise.all([memo.get('a', compute), memo.get('a', compute)]);
    expect(calls).toBe(1);
    await memo.get('a', compute);
    expect(calls).toBe(2);
  });
});
