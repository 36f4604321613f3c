import { Elysia } from 'elysia'
import type { Deps } from '../../deps'
import { authPlugin } from '../../http/auth'
import { jsonBody } from '../../http/body'
import { IdParams, PageQuery, responses } from '../../http/schemas'
import { addGroupMembers, removeGroupMember } from './members'
import {
  AddMembersBody,
  CreateGroupBody,
  Deleted,
  Group,
  GroupList,
  MemberParams,
  MemberRemoved,
  UpdateGroupBody,
} from './model'
import { createGroup, deleteGroup, getGroup, listGroups, updateGroup } from './service'

export const groupRoutes = (deps: Deps) =>
  new Elysia({ prefix: '/api', tags: ['broadcast-groups'] })
    .use(jsonBody(deps.config.maxJsonBytes))
    .use(authPlugin(deps))
    .post(
      '/broadcast-groups',
      ({ ctx, body, set }) => {
        set.status = 201
        return createGroup({ ctx, input: body })
      },
      {
        asWorkspace: true,
        body: CreateGroupBody,
        parse: 'json',
        response: responses({ 201: Group }, [400, 401, 403, 404, 413]),
        detail: {
          operationId: 'createBroadcastGroup',
          summary: 'Create a broadcast group',
          description:
            'Members and allowed callers are agents of your workspace (UUID or permanent id; another ' +
            "workspace's agent is a 404). Without allowedCallerIds any agent of the workspace may broadcast " +
            'to the group; with a list only those agents may (an empty list closes the lane).',
        },
      },
    )
    .get('/broadcast-groups', ({ ctx, query }) => listGroups({ ctx, input: query }), {
      asWorkspace: true,
      query: PageQuery,
      response: responses({ 200: GroupList }, [400, 401, 403]),
      detail: { operationId: 'listBroadcastGroups', summary: 'List broadcast groups (with member counts)' },
    })
    .get('/broadcast-groups/:id', ({ ctx, params }) => getGroup({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: Group }),
      detail: { operationId: 'getBroadcastGroup', summary: 'One broadcast group with its members' },
    })
    .patch(
      '/broadcast-groups/:id',
      ({ ctx, params, body }) => updateGroup({ ctx, input: { ...body, ...params } }),
      {
        asWorkspace: true,
        params: IdParams,
        body: UpdateGroupBody,
        parse: 'json',
        response: responses({ 200: Group }, [400, 401, 403, 404, 413]),
        detail: {
          operationId: 'updateBroadcastGroup',
          summary: 'Rename, describe, or set who may call (allowedCallerIds: null opens it to the workspace)',
        },
      },
    )
    .delete('/broadcast-groups/:id', ({ ctx, params }) => deleteGroup({ ctx, input: params }), {
      asWorkspace: true,
      params: IdParams,
      response: responses({ 200: Deleted }),
      detail: { operationId: 'deleteBroadcastGroup', summary: 'Delete a broadcast group (its agents stay)' },
    })
    .post(
      '/broadcast-groups/:id/members',
      ({ ctx, params, body }) => addGroupMembers({ ctx, input: { ...body, ...params } }),
      {
        asWorkspace: true,
        params: IdParams,
        body: AddMembersBody,
        parse: 'json',
        response: responses({ 200: Group }, [400, 401, 403, 404, 413]),
        detail: {
          operationId: 'addBroadcastGroupMembers',
          summary: 'Add members (agents already in the group are left as they are)',
        },
      },
    )
    .delete(
      '/broadcast-groups/:id/members/:memberId',
      ({ ctx, params }) => removeGroupMember({ ctx, input: params }),
      {
        asWorkspace: true,
        params: MemberParams,
        response: responses({ 200: MemberRemoved }),
        detail: {
          operationId: 'removeBroadcastGroupMember',
          summary: "Remove a member (by membership id, or the agent's UUID or permanent id)",
        },
      },
    )
