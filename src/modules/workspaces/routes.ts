import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { IdParams, PageQuery, responses } from '../../http/schemas'
import { RotateSecretBody, WebhookSecret } from '../callbacks/model'
import { getWebhookSecret, rotateWebhookSecret } from '../callbacks/secret'
import {
  CreatedKey,
  CreatedWorkspace,
  CreateKeyBody,
  CreateWorkspaceBody,
  IssuedKey,
  KeyList,
  RevokedKey,
  Workspace,
  WorkspaceList,
} from './model'
import {
  createKey,
  createWorkspace,
  getWorkspace,
  issueWorkspaceKey,
  listKeys,
  listWorkspaces,
  revokeKey,
} from './service'

export const workspaceRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['workspaces'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/workspaces',
      ({ ctx, body, set }) => {
        set.status = 201
        return createWorkspace({ deps: ctx.deps, actor: ctx.actor, input: body })
      },
      {
        asAdmin: true,
        secretAnswer: true,
        body: CreateWorkspaceBody,
        parse: 'json',
        response: responses({ 201: CreatedWorkspace }, [400, 401, 403, 409]),
        detail: { operationId: 'createWorkspace', summary: 'Create a workspace and its first key (admin)' },
      },
    )
    .get('/workspaces', ({ ctx, query }) => listWorkspaces({ deps: ctx.deps, input: query }), {
      asAdmin: true,
      query: PageQuery,
      response: responses({ 200: WorkspaceList }, [400, 401, 403]),
      detail: { operationId: 'listWorkspaces', summary: 'List workspaces (admin)' },
    })
    .post(
      '/workspaces/:id/keys',
      ({ ctx, params, body, set }) => {
        set.status = 201
        return issueWorkspaceKey({
          deps: ctx.deps,
          actor: ctx.actor,
          input: { workspaceId: params.id, ...body },
        })
      },
      {
        asAdmin: true,
        params: IdParams,
        body: CreateKeyBody,
        parse: 'json',
        response: responses({ 201: IssuedKey }, [400, 401, 403, 404]),
        detail: {
          summary: 'Issue a new key for an existing workspace (admin): the way back when its keys are lost',
          operationId: 'issueWorkspaceKey',
        },
      },
    )
    .get('/workspace', ({ ctx }) => getWorkspace({ ctx }), {
      asWorkspace: true,
      response: responses({ 200: Workspace }, [401, 403]),
      detail: { operationId: 'getWorkspace', summary: "The caller's workspace" },
    })
    .post(
      '/workspace/keys',
      ({ ctx, body, set }) => {
        set.status = 201
        return createKey({ ctx, input: body })
      },
      {
        asWorkspace: true,
        secretAnswer: true,
        body: CreateKeyBody,
        parse: 'json',
        response: responses({ 201: CreatedKey }, [400, 401, 403]),
        detail: {
          operationId: 'createWorkspaceKey',
          summary: 'Create a workspace key (the secret is shown once)',
        },
      },
    )
    .get('/workspace/keys', ({ ctx, query }) => listKeys({ ctx, input: query }), {
      asWorkspace: true,
      query: PageQuery,
      response: responses({ 200: KeyList }, [400, 401, 403]),
      detail: { operationId: 'listWorkspaceKeys', summary: 'List live workspace keys (no secrets)' },
    })
    .delete('/workspace/keys/:id', ({ ctx, params }) => revokeKey({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: RevokedKey }, [400, 401, 403, 404, 409]),
      detail: { operationId: 'revokeWorkspaceKey', summary: 'Revoke a workspace key at once' },
    })
    .get('/workspace/webhook-secret', ({ ctx }) => getWebhookSecret({ ctx }), {
      asWorkspace: true,
      secretAnswer: true,
      response: responses({ 200: WebhookSecret }, [401, 403]),
      detail: {
        operationId: 'getWebhookSecret',
        summary: 'The secret that signs this workspace’s job callbacks (created on first use)',
        description:
          'Callbacks carry the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature; ' +
          'verify them with any Standard Webhooks library and this secret.',
      },
    })
    .post('/workspace/webhook-secret/rotate', ({ ctx }) => rotateWebhookSecret({ ctx }), {
      asWorkspace: true,
      secretAnswer: true,
      body: RotateSecretBody,
      parse: 'json',
      response: responses({ 200: WebhookSecret }, [400, 401, 403, 409]),
      detail: {
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the callback signing secret',
        description:
          'Answers the new secret. For 24 h callbacks carry signatures by both the new and the old one.',
      },
    })
