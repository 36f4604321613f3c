export { type Backoff, heartbeatInterval, jittered, retryDelay } from './backoff.js'
export {
  type LaneBody,
  type LaneOptions,
  type Presence,
  type Schemas,
  Switchboard,
  type SwitchboardOptions,
} from './client.js'
export { type CommandHandler, CommandPoller, type CommandPollerOptions } from './commands.js'
export { type ClientErrorCode, type ErrorCode, SwitchboardError } from './errors.js'
export { HeartbeatLoop, type HeartbeatOptions } from './heartbeat.js'
export {
  type LiveEvent,
  type LiveOptions,
  LiveSubscription,
  type WebSocketConstructor,
  type WebSocketLike,
} from './live.js'
export type { components, operations, paths } from './schema.js'
