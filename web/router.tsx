import type { AnchorHTMLAttributes, ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'

const listeners = new Set<() => void>()
const notify = () => {
  for (const l of listeners) l()
}
addEventListener('popstate', notify)

/** Moves to another screen of the console without a reload; the address bar follows. */
export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (opts.replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  notify()
  scrollTo(0, 0)
}

/** The current location; re-renders the caller when it changes. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0)
  const rerender = () => setTick((n) => n + 1)
  useEffect(() => {
    listeners.add(rerender)
    return () => {
      listeners.delete(rerender)
    }
  }, [])
  return { path: location.pathname, query: new URLSearchParams(location.search) }
}

/** Replaces the query string (filters, search, page) so the address can be shared and reloaded. */
export function setQuery(values: Record<string, string | null | undefined>) {
  const q = new URLSearchParams(location.search)
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined || v === '') q.delete(k)
    else q.set(k, v)
  }
  const s = q.toString()
  navigate(`${location.pathname}${s ? `?${s}` : ''}`, { replace: true })
}

/** Matches `/agents/:id/health` against a path; the params, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/')
  const s = path.replace(/\/+$/, '').split('/')
  if (p.length !== s.length && !(pattern === '/' && path === '/')) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(s[i] ?? '')
    else if (part !== s[i]) return null
  }
  return params
}

type LinkProps = AnchorHTMLAttributes & { href: string; children: ComponentChildren }

/** An ordinary link (opens in a new tab, copies, middle-clicks) that navigates in place on a plain click. */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    navigate(href)
  }
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  )
}
