import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { IdParams, PageQuery, responses } from '../../http/schemas'
import { Deleted, MemberParams, MemberRemoved } from '../groups/model'
import { addPoolMember, removePoolMember, updatePoolMember } from './members'
import {
  CreatePoolBody,
  Pool,
  PoolList,
  PoolMember,
  PoolMemberInput,
  UpdateMemberBody,
  UpdatePoolBody,
} from './model'
import { createPool, deletePool, getPool, listPools, updatePool } from './service'

export const poolRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['pools'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/pools',
      ({ ctx, body, set }) => {
        set.status = 201
        return createPool({ ctx, input: body })
      },
      {
        asWorkspace: true,
        body: CreatePoolBody,
        parse: 'json',
        response: responses({ 201: Pool }, [400, 401, 403, 404, 413]),
        detail: {
          operationId: 'createPool',
          summary: 'Create a pool',
          description:
            'Members and allowed callers are agents of your workspace (UUID or permanent id; another ' +
            "workspace's agent is a 404); a member's priority defaults to 0. Without allowedCallerIds any " +
            'agent of the workspace may call the pool; with a list only those agents may (an empty list closes it).',
        },
      },
    )
    .get('/pools', ({ ctx, query }) => listPools({ ctx, input: query }), {
      asWorkspace: true,
      query: PageQuery,
      response: responses({ 200: PoolList }, [400, 401, 403]),
      detail: { operationId: 'listPools', summary: 'List pools (with member counts)' },
    })
    .get('/pools/:id', ({ ctx, params }) => getPool({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: Pool }),
      detail: {
        operationId: 'getPool',
        summary: "One pool with its members and this instance's view of their passive health",
      },
    })
    .patch('/pools/:id', ({ ctx, params, body }) => updatePool({ ctx, input: { ...body, ...params } }), {
      asWorkspace: true,
      params: IdParams,
      body: UpdatePoolBody,
      parse: 'json',
      response: responses({ 200: Pool }, [400, 401, 403, 404, 413]),
      detail: { operationId: 'updatePool', summary: 'Rename, describe, change the strategy or who may call' },
    })
    .delete('/pools/:id', ({ ctx, params }) => deletePool({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: Deleted }),
      detail: { operationId: 'deletePool', summary: 'Delete a pool (its agents stay)' },
    })
    .post(
      '/pools/:id/members',
      ({ ctx, params, body, set }) => {
        set.status = 201
        return addPoolMember({ ctx, input: { ...body, ...params } })
      },
      {
        asWorkspace: true,
        params: IdParams,
        body: PoolMemberInput,
        parse: 'json',
        response: responses({ 201: PoolMember }, [400, 401, 403, 404, 409, 413]),
        detail: {
          operationId: 'addPoolMember',
          summary: 'Add a member with a priority (an agent already in the pool is a 409)',
        },
      },
    )
    .patch(
      '/pools/:id/members/:memberId',
      ({ ctx, params, body }) => updatePoolMember({ ctx, input: { ...body, ...params } }),
      {
        asWorkspace: true,
        params: MemberParams,
        body: UpdateMemberBody,
        parse: 'json',
        response: responses({ 200: PoolMember }, [400, 401, 403, 404, 413]),
        detail: {
          operationId: 'updatePoolMember',
          summary: "Change a member's priority (by membership id, or the agent's UUID or permanent id)",
        },
      },
    )
    .delete('/pools/:id/members/:memberId', ({ ctx, params }) => removePoolMember({ ctx, input: params }), {
      asWorkspace: true,
      params: MemberParams,
      response: responses({ 200: MemberRemoved }),
      detail: {
        operationId: 'removePoolMember',
        summary: "Remove a member (by membership id, or the agent's UUID or permanent id)",
      },
    })
