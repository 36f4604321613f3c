import type { AppAuthConfig } from '../../db/schema/types'
import type { Credential } from '../forward/routing'
import type { AppAuthInputValue, AppAuthPatchValue } from './model'

/** The additional data an app connection's secret is sealed with: it opens in this row only. */
export const secretContext = (connectionId: string) => `app_connections.secret:${connectionId}`

/** The last 4 characters of a secret, shown on reads; none for a secret too short to spare them. */
export const secretHint = (secret: string) => (secret.length >= 8 ? secret.slice(-4) : null)

/** An auth input split into what is stored in the clear and the one secret that is sealed. */
export function splitAuth(auth: AppAuthInputValue | AppAuthPatchValue): {
  config: AppAuthConfig
  secret: string | undefined
} {
  switch (auth.type) {
    case 'bearer':
      return { config: { type: 'bearer' }, secret: auth.value }
    case 'header':
      return { config: { type: 'header', name: auth.name }, secret: auth.value }
    case 'basic':
      return { config: { type: 'basic', username: auth.username }, secret: auth.password }
    case 'query':
      return { config: { type: 'query', name: auth.name }, secret: auth.value }
    case 'oauth2_client_credentials':
      return {
        config: {
          type: 'oauth2_client_credentials',
          tokenUrl: auth.tokenUrl,
          clientId: auth.clientId,
          scopes: auth.scopes ? [...new Set(auth.scopes)] : null,
          audience: auth.audience ?? null,
          clientAuthMethod: auth.clientAuthMethod ?? 'client_secret_basic',
        },
        secret: auth.clientSecret,
      }
  }
}

/** The auth as reads show it: its type, its non-secret fields and the hint. */
export const authView = (config: AppAuthConfig, hint: string | null) => ({ ...config, secretHint: hint })

/** The header a caller may not set because the credential travels in it (null: a query credential). */
export function credentialHeaderName(config: AppAuthConfig): string | null {
  switch (config.type) {
    case 'header':
      return config.name.toLowerCase()
    case 'query':
      return null
    default:
      return 'authorization'
  }
}

/** The credential header for a static secret (everything but a query credential and OAuth2). */
export function staticCredential(config: AppAuthConfig, secret: string): Credential | null {
  switch (config.type) {
    case 'bearer':
      return { name: 'authorization', value: `Bearer ${secret}` }
    case 'header':
      return { name: config.name, value: secret }
    case 'basic':
      return { name: 'authorization', value: basic(config.username, secret) }
    default:
      return null
  }
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
