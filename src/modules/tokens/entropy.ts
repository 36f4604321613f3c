/**
 * How many bits of guessing a caller-supplied token is worth, estimated from its text alone.
 *
 * Each character counts the bits of the alphabet the token draws from (the union of the
 * classes it uses: digits, lower case, upper case, other printable ASCII), unless it is
 * predictable from what came before it:
 * - the third character on of a run that repeats (`aaaa`) or strides by a small constant
 *   step (`abcd`, `9876`, `acegi`),
 * - part of a repeat of an earlier stretch of at least four characters (`abc1abc1abc1`),
 *   which counts once, as a single choice.
 * It errs low for text that looks random and lower still for text that is made: a real
 * 128-bit random token in hex or base62 scores above 128, a keyboard pattern far below.
 */
export function estimatedBits(token: string): number {
  const pool =
    (/[0-9]/.test(token) ? 10 : 0) +
    (/[a-z]/.test(token) ? 26 : 0) +
    (/[A-Z]/.test(token) ? 26 : 0) +
    (/[^0-9a-zA-Z]/.test(token) ? 33 : 0)
  if (pool === 0) return 0
  let choices = 0
  let i = 0
  while (i < token.length) {
    const repeat = longestEarlierRepeat(token, i)
    if (repeat >= 4) {
      choices++
      i += repeat
      continue
    }
    if (!predictable(token, i)) choices++
    i++
  }
  return choices * Math.log2(pool)
}

/** The bits a pre-generated token must be worth (the strength of a generated one is ~190). */
export const MIN_TOKEN_BITS = 128

const code = (s: string, i: number) => s.charCodeAt(i)

/**
 * The third character of a run on: `aaa`, or a stride (`abc`, `975`). Two in a row happen by
 * chance in random text, so the second one still counts.
 */
function predictable(s: string, i: number): boolean {
  if (i < 2) return false
  const step = code(s, i) - code(s, i - 1)
  return Math.abs(step) <= 3 && code(s, i - 1) - code(s, i - 2) === step
}

/** The length of the longest match of `s[i…]` starting anywhere before `i` (overlap allowed). */
function longestEarlierRepeat(s: string, i: number): number {
  let best = 0
  for (let j = 0; j < i; j++) {
    let n = 0
    while (i + n < s.length && s[j + n] === s[i + n]) n++
    if (n > best) best = n
  }
  return best
}
