import { useEffect, useState } from 'preact/hooks'
import { api, call, onSessionEnded, type Schemas } from './api/client'
import { live, useLiveStatus } from './live'
import { AgentPage } from './pages/agent'
import { AgentsPage } from './pages/agents'
import { AppConnectionPage } from './pages/app-connection'
import { AppConnectionsPage, NewAppConnectionPage } from './pages/app-connections'
import { AuditPage } from './pages/audit'
import { ConnectionsPage } from './pages/connections'
import { GroupsPage } from './pages/groups'
import { JobsPage } from './pages/jobs'
import { RegisterPage } from './pages/register'
import { SignInPage } from './pages/sign-in'
import { WorkspacePage } from './pages/workspace'
import { Link, match, navigate, useLocation } from './router'

type Session = Schemas['ConsoleSession']
type State = { kind: 'loading' } | { kind: 'out'; ended: boolean } | { kind: 'in'; session: Session }

/** The console: who is signed in decides between the sign-in page and the rest. */
export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' })
  useEffect(() => {
    call(api.GET('/api/session')).then(
      (session) => setState({ kind: 'in', session }),
      () => setState({ kind: 'out', ended: false }),
    )
    return onSessionEnded(() => setState((s) => (s.kind === 'in' ? { kind: 'out', ended: true } : s)))
  }, [])
  useEffect(() => {
    if (state.kind === 'in') live.start()
    else live.stop()
  }, [state.kind])

  if (state.kind === 'loading') return <p class="loading">Loading…</p>
  if (state.kind === 'out') {
    return <SignInPage ended={state.ended} onSignedIn={(session) => setState({ kind: 'in', session })} />
  }
  return <Shell session={state.session} onSignedOut={() => setState({ kind: 'out', ended: false })} />
}

const NAV: [href: string, label: string, active: (p: string) => boolean][] = [
  ['/agents', 'My Agents', (p) => p === '/' || (p.startsWith('/agents') && p !== '/agents/register')],
  ['/agents/register', 'Register Agent', (p) => p === '/agents/register'],
  ['/connections', 'Connections', (p) => p.startsWith('/connections')],
  ['/groups', 'Groups and Pools', (p) => p.startsWith('/groups') || p.startsWith('/pools')],
  ['/jobs', 'Jobs', (p) => p.startsWith('/jobs')],
  ['/app-connections', 'App connections', (p) => p.startsWith('/app-connections')],
  ['/workspace', 'Workspace', (p) => p.startsWith('/workspace')],
  ['/audit', 'Audit log', (p) => p.startsWith('/audit')],
]

function Shell({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const { path } = useLocation()
  const [menuOpen, setMenuOpen] = useState(false)
  useEffect(() => {
    if (path === '/sign-in') navigate('/', { replace: true })
    setMenuOpen(false)
  }, [path])
  const signOut = async () => {
    await api.DELETE('/api/session').catch(() => undefined)
    onSignedOut()
    navigate('/sign-in', { replace: true })
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/agents" class="brand">
          Switchboard
        </Link>
        <span class="workspace" title={`Signed in with ${session.keyPrefix}…`}>
          {session.workspace.name}
        </span>
        <LiveIndicator />
        <button
          type="button"
          class="secondary menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav id="nav" class={`side${menuOpen ? ' open' : ''}`} aria-label="Console">
        <ul>
          {NAV.map(([href, label, active]) => (
            <li key={href}>
              <Link href={href} aria-current={active(path) ? 'page' : undefined}>
                {label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <Screen path={path} />
      </main>
    </div>
  )
}

function Screen({ path }: { path: string }) {
  if (path === '/' || path === '/agents') return <AgentsPage />
  if (path === '/agents/register') return <RegisterPage />
  const agent = match('/agents/:id', path) ?? match('/agents/:id/:tab', path)
  if (agent) return <AgentPage key={agent.id} id={agent.id!} tab={agent.tab ?? 'settings'} />
  if (path === '/connections') return <ConnectionsPage />
  if (path === '/groups' || path === '/pools')
    return <GroupsPage tab={path === '/pools' ? 'pools' : 'groups'} />
  if (path === '/jobs') return <JobsPage />
  if (path === '/app-connections') return <AppConnectionsPage />
  if (path === '/app-connections/new') return <NewAppConnectionPage />
  const app = match('/app-connections/:id', path)
  if (app) return <AppConnectionPage key={app.id} id={app.id!} />
  if (path === '/workspace') return <WorkspacePage />
  if (path === '/audit') return <AuditPage />
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no screen at this address. Go to <Link href="/agents">My Agents</Link>.
      </p>
    </section>
  )
}

const LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const

/** Whether the live stream is up; it reconnects by itself and says so. */
function LiveIndicator() {
  const status = useLiveStatus()
  return (
    <span
      class={`live live-${status}`}
      role="status"
      aria-live="polite"
      title="Live updates over the WebSocket"
    >
      <span class="dot" aria-hidden="true" />
      {LIVE_TEXT[status]}
    </span>
  )
}
