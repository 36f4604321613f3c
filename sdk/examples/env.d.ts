// What the examples use of their runtime (Node.js, Bun or Deno), without a runtime's own types.
declare const process: {
  env: Record<string, string | undefined>
  once(event: string, listener: () => void): void
}
