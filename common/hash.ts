/** 32-bit FNV-1a over the UTF-8 bytes of `s` (ASCII fast path: channel ids and seeds are ASCII). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      h ^= c;
      h = Math.imul(h, 0x01000193);
    } else {
      for (const b of Buffer.from(s.slice(i, i + 1))) {
        h ^= b;
        h = Math.imul(h, 0x01000193);
      }
    }
  }
  return h >>> 0;
}
