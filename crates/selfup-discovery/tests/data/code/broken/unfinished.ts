// Work in progress: does not parse.
export function retry<T>(call: () => T, attempts = 3): T {
  for (let i = 0; i < attempts; i++ {
    try { return call(); } catch (e) { if (i === attempts - 1) throw e; }
  }}
  throw new Error(;
}}} ]]]
