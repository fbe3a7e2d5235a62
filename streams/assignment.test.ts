import { describe, expect, it } from 'vitest';
import { assignPartitions, type Member } from './assignment.ts';

const free = (id: string): Member => ({ id, pinned: null });

describe('assignPartitions', () => {
  it('gives a lone member every partition', () => {
    expect(assignPartitions(4, [free('a')]).get('a')).toEqual([0, 1, 2, 3]);
  });

  it('deals partitions so shares differ by at most one, whatever the order members are listed in', () => {
    const a = assignPartitions(8, [free('c'), free('a'), free('b')]);
    const b = assignPartitions(8, [free('b'), free('c'), free('a')]);
    expect(a).toEqual(b);
    const sizes = [...a.values()].map((ps) => ps.length).sort();
    expect(sizes).toEqual([2, 3, 3]);
    expect([...a.values()].flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps pinned partitions for their member and shares the rest among the others', () => {
    const a = assignPartitions(6, [{ id: 'pin', pinned: [1, 4] }, free('x'), free('y')]);
    expect(a.get('pin')).toEqual([1, 4]);
    expect([...a.get('x')!, ...a.get('y')!].sort()).toEqual([0, 2, 3, 5]);
  });

  it('gives a partition pinned by two members to the first by id, and ignores pins out of range', () => {
    const a = assignPartitions(3, [
      { id: 'b', pinned: [0] },
      { id: 'a', pinned: [0, 7] },
    ]);
    expect(a.get('a')).toEqual([0]);
    expect(a.get('b')).toEqual([]);
  });

  it('leaves partitions unassigned when every member is pinned elsewhere', () => {
    const a = assignPartitions(3, [{ id: 'a', pinned: [2] }]);
    expect([...a.values()].flat()).toEqual([2]);
  });
});
