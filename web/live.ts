import { useEffect, useRef, useState } from 'preact/hooks'
import { api, sessionEnded } from './api/client'

/** An event of the live stream: `{id, type, at, data}`; `id` only grows and is the resume cursor. */
export type LiveEvent = { id: number; type: string; at: string; data: Record<string, unknown> }
export type LiveStatus = 'connecting' | 'live' | 'reconnecting'

const CREDENTIAL_ENDED = new Set([4001, 4003, 4009])
const MAX_BACKOFF_MS = 15_000

/**
 * The console's one WebSocket to /api/ws (the session cookie authenticates it). It keeps the
 * id of the last event it handed out and, when the socket drops, reconnects by itself with
 * `?since=` that id, so nothing that happened in between is lost. A close that says the
 * credential ended (sign-out elsewhere, key revoked, idle expiry) ends the session here too.
 */
class LiveStream {
  status: LiveStatus = 'connecting'
  private socket: WebSocket | null = null
  private lastId: number | null = null
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private stopped = true
  private readonly events = new Set<(e: LiveEvent) => void>()
  private readonly statuses = new Set<(s: LiveStatus) => void>()

  start() {
    if (!this.stopped) return
    this.stopped = false
    this.connect()
  }

  stop() {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.socket?.close(1000)
    this.socket = null
    this.lastId = null
  }

  onEvent(fn: (e: LiveEvent) => void) {
    this.events.add(fn)
    return () => {
      this.events.delete(fn)
    }
  }

  onStatus(fn: (s: LiveStatus) => void) {
    this.statuses.add(fn)
    return () => {
      this.statuses.delete(fn)
    }
  }

  private setStatus(s: LiveStatus) {
    this.status = s
    for (const fn of this.statuses) fn(s)
  }

  private connect() {
    const url = new URL('/api/ws', location.href)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    if (this.lastId !== null) url.searchParams.set('since', String(this.lastId))
    const socket = new WebSocket(url)
    this.socket = socket
    let ready = false
    socket.onmessage = (m) => {
      let frame: { type?: string; id?: number; cursor?: number }
      try {
        frame = JSON.parse(String(m.data))
      } catch {
        return
      }
      if (frame.type === 'ready') {
        ready = true
        this.attempt = 0
        this.lastId ??= frame.cursor ?? 0
        this.setStatus('live')
        return
      }
      if (typeof frame.id !== 'number') return
      this.lastId = frame.id
      for (const fn of this.events) fn(frame as LiveEvent)
    }
    socket.onclose = (e) => {
      if (this.socket !== socket || this.stopped) return
      this.socket = null
      if (CREDENTIAL_ENDED.has(e.code)) {
        sessionEnded()
        return
      }
      // Refused before it opened (the page cannot see the status): ask whether the session is
      // still there; a 401 there signs the console out.
      if (!ready) void api.GET('/api/session')
      this.setStatus('reconnecting')
      const wait = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt++) * (0.75 + Math.random() / 2)
      this.timer = setTimeout(() => this.connect(), wait)
    }
  }
}

export const live = new LiveStream()

/** Calls `fn` for every live event whose type matches one of `types` (`agent.*` for a family). */
export function useLiveEvents(types: string[], fn: (e: LiveEvent) => void) {
  const handler = useRef(fn)
  handler.current = fn
  const key = types.join(',')
  useEffect(() => {
    const wanted = key.split(',')
    const matches = (t: string) =>
      wanted.some((w) => w === t || (w.endsWith('.*') && t.startsWith(w.slice(0, -1))))
    return live.onEvent((e) => {
      if (matches(e.type)) handler.current(e)
    })
  }, [key])
}

export function useLiveStatus(): LiveStatus {
  const [status, setStatus] = useState(live.status)
  useEffect(() => live.onStatus(setStatus), [])
  return status
}
