import type { Ctx } from '../../deps'
import { EVENT_TYPES } from '../events/append'
import { latestEventId } from '../events/feed'
import type { AgentActor, WorkspaceActor } from '../tokens/actor'
import { CLOSE_CODES } from './protocol'

/** What a plain GET of the stream's URL answers: where the stream is now, and its vocabulary. */
export async function streamInfo({ ctx }: { ctx: Ctx<WorkspaceActor | AgentActor> }) {
  return {
    cursor: await latestEventId(ctx.deps),
    eventTypes: [...EVENT_TYPES],
    closeCodes: CLOSE_CODES,
  }
}
