import type { Orm } from '../../db'
import type { Deps } from '../../deps'
import { insertCallback, type NewCallback } from './outbox'

/** Puts a callback in the outbox within `tx` and wakes the worker once that commits. */
export async function enqueueCallback(deps: Deps, tx: Orm, cb: NewCallback) {
  await insertCallback(deps, tx, cb)
  deps.db.onCommit(() => deps.callbacks.wake())
}
