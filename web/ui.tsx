import type { ComponentChildren, InputHTMLAttributes } from 'preact'
import { useEffect, useId, useRef, useState } from 'preact/hooks'
import { messageOf } from './api/client'

type InputProps = Pick<
  InputHTMLAttributes,
  | 'required'
  | 'maxLength'
  | 'min'
  | 'max'
  | 'placeholder'
  | 'autoComplete'
  | 'spellcheck'
  | 'inputMode'
  | 'class'
  | 'readOnly'
> & { type?: 'text' | 'url' | 'number' | 'password' | 'search' | 'datetime-local' }

/** A labelled input with its hint and, right under it, the server's message when it refused the value. */
export function Field(
  props: InputProps & {
    label: string
    value: string
    onValue: (v: string) => void
    hint?: ComponentChildren
    error?: string | undefined
  },
) {
  const { label, value, onValue, hint, error, ...rest } = props
  const id = useId()
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ')
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>
        {label}
        {rest.required ? <span class="req"> (required)</span> : null}
      </label>
      <input
        id={id}
        value={value}
        onInput={(e) => onValue((e.target as HTMLInputElement).value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={described || undefined}
        {...(rest as Record<string, unknown>)}
      />
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  )
}

/** A labelled multi-line input (JSON payloads, descriptions). */
export function TextArea(props: {
  label: string
  value: string
  onValue: (v: string) => void
  hint?: string
  error?: string | undefined
  rows?: number
  required?: boolean
}) {
  const id = useId()
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ')
  return (
    <div class={`field${props.error ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        rows={props.rows ?? 3}
        value={props.value}
        required={props.required}
        onInput={(e) => props.onValue((e.target as HTMLTextAreaElement).value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={described || undefined}
      />
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  )
}

export function Select(props: {
  label: string
  value: string
  onValue: (v: string) => void
  options: [value: string, label: string][]
  hint?: string
  error?: string | undefined
}) {
  const id = useId()
  return (
    <div class={`field${props.error ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        onChange={(e) => props.onValue((e.target as HTMLSelectElement).value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${id}-error` : props.hint ? `${id}-hint` : undefined}
      >
        {props.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="error" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  )
}

export function Check(props: {
  label: string
  checked: boolean
  onChange: (v: boolean) => void
  hint?: string
}) {
  const id = useId()
  return (
    <div class="check">
      <input
        type="checkbox"
        id={id}
        checked={props.checked}
        onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
      />
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
    </div>
  )
}

/** A failure (or success) said where it happened; announced to screen readers. */
export function Notice({ error, ok }: { error?: unknown; ok?: string | null }) {
  if (error) {
    return (
      <p class="notice bad" role="alert">
        {messageOf(error)}
      </p>
    )
  }
  if (ok) {
    return (
      <p class="notice good" role="status">
        {ok}
      </p>
    )
  }
  return null
}

/** What to do when a list is empty. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  )
}

/** Copies a value; says so, for sighted and screen-reader users alike. */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [done, setDone] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value)
      setDone(true)
      setTimeout(() => setDone(false), 2000)
    } catch {
      setDone(false)
    }
  }
  return (
    <button type="button" class="secondary" onClick={copy}>
      <span aria-live="polite">{done ? 'Copied' : label}</span>
    </button>
  )
}

/** A secret shown once: selectable, copyable, and said to be unrecoverable. */
export function SecretOnce({ label, value, what }: { label: string; value: string; what: string }) {
  const id = useId()
  return (
    <div class="secret">
      <label for={id}>{label}</label>
      <div class="secret-row">
        <input
          id={id}
          readOnly
          value={value}
          class="mono"
          onFocus={(e) => (e.target as HTMLInputElement).select()}
        />
        <CopyButton value={value} />
      </div>
      <p class="warn">Copy {what} now: it will not be shown again. Switchboard stores only its hash.</p>
    </div>
  )
}

/** A command line with its copy button. */
export function Code({ children }: { children: string }) {
  return (
    <div class="code">
      <pre>
        <code>{children}</code>
      </pre>
      <CopyButton value={children} label="Copy command" />
    </div>
  )
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">never</span>
  const d = new Date(at)
  return (
    <time dateTime={at} title={d.toLocaleString()}>
      {ago(d)}
    </time>
  )
}

export function ago(d: Date): string {
  const s = Math.round((Date.now() - d.getTime()) / 1000)
  const future = s < 0
  const a = Math.abs(s)
  const text =
    a < 45
      ? `${a}s`
      : a < 3600
        ? `${Math.round(a / 60)} min`
        : a < 86_400
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86_400)} d`
  return future ? `in ${text}` : `${text} ago`
}

export function Presence({ value }: { value: string }) {
  return <span class={`badge presence-${value}`}>{value}</span>
}

export function Badge({ children, tone = '' }: { children: ComponentChildren; tone?: string }) {
  return <span class={`badge ${tone}`}>{children}</span>
}

/** Older/newer through a cursor-paged list; the cursors seen are kept for going back. */
export function usePager() {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined])
  const cursor = stack[stack.length - 1]
  return {
    cursor,
    page: stack.length,
    reset: () => setStack([undefined]),
    controls: (next: string | null | undefined) =>
      stack.length > 1 || next ? (
        <nav class="pager" aria-label="Pages">
          <button
            type="button"
            class="secondary"
            disabled={stack.length <= 1}
            onClick={() => setStack(stack.slice(0, -1))}
          >
            Previous page
          </button>
          <span>Page {stack.length}</span>
          <button
            type="button"
            class="secondary"
            disabled={!next}
            onClick={() => next && setStack([...stack, next])}
          >
            Next page
          </button>
        </nav>
      ) : null,
  }
}

/**
 * Loads once per change of `deps`; `reload()` fetches again. A failed reload keeps what was
 * shown beside the error, so a page that refreshes itself does not blank on one lost request.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true })
  const [tick, setTick] = useState(0)
  const latest = useRef(0)
  useEffect(() => {
    const n = ++latest.current
    setState((s) => ({ ...s, loading: true }))
    load().then(
      (data) => n === latest.current && setState({ data, loading: false }),
      (error) => n === latest.current && setState((s) => ({ data: s.data, error, loading: false })),
    )
  }, [...deps, tick])
  return {
    ...state,
    reload: () => setTick((t) => t + 1),
    set: (data: T) => setState({ data, loading: false }),
  }
}

/** A page's heading; it takes focus when the screen changes, so the move is announced. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null)
  useEffect(() => {
    ref.current?.focus({ preventScroll: true })
  }, [])
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  )
}

/** Deleting for good: the name must be typed first. */
export function TypedConfirm(props: { name: string; action: string; onConfirm: () => Promise<void> }) {
  const [typed, setTyped] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await props.onConfirm()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form onSubmit={submit} class="danger-form">
      <Field
        label={`Type “${props.name}” to confirm`}
        value={typed}
        onValue={setTyped}
        autoComplete="off"
        spellcheck={false}
      />
      <button type="submit" class="danger" disabled={typed !== props.name || busy}>
        {props.action}
      </button>
      <Notice error={error} />
    </form>
  )
}

/** A form's submit with its busy state and the error the server gave, next to it. */
export function useSubmit<T>(run: () => Promise<T>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = async (e?: Event) => {
    e?.preventDefault()
    setBusy(true)
    setError(null)
    try {
      return await run()
    } catch (err) {
      setError(err)
      return undefined
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, submit, setError }
}

/** One-click actions (accept, revoke, clear): busy while running, the failure kept to show. */
export function useAction() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true)
    setError(null)
    try {
      await fn()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, run }
}
