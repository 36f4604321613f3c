/** The command line: `--port`, `--host` and `--database` stand for their variables. */
const FLAGS = { '--port': 'PORT', '--host': 'HOST', '--database': 'DATABASE_URL' } as const
const SWITCHES = new Set(['--ready'])

export type Parsed = { words: string[]; env: Record<string, string>; switches: Set<string> }

/** Words and flags; an unknown flag, or a flag without its value, is an error (never ignored). */
export function parseArgs(argv: string[]): Parsed | string {
  const words: string[] = []
  const env: Record<string, string> = {}
  const switches = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      words.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    if (SWITCHES.has(flag) && eq === -1) {
      switches.add(flag)
      continue
    }
    const variable = FLAGS[flag as keyof typeof FLAGS]
    if (!variable) return `unknown option ${flag}`
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1)
    if (value === undefined || value === '') return `${flag} needs a value`
    env[variable] = value
  }
  return { words, env, switches }
}
